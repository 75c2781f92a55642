//! Pure parsers that turn message text into marketplace facts: phone numbers,
//! prices, offers and WhatsApp product/catalog links. Nothing in here touches
//! the network, the database or the clock; every function takes `&str` and
//! returns values, so each is table-tested and property-tested.

mod assemble;
pub mod attrs;
mod fees;
pub mod key;
pub mod lexicon;
mod line_scope;
pub mod lines;
pub mod links;
pub mod mask;
pub mod multipart;
#[cfg(test)]
mod non_offer_props;
mod non_offers;
mod number;
pub mod offers;
#[cfg(test)]
mod corpus_tally;
#[cfg(test)]
mod offer_precision_cases;
#[cfg(test)]
mod offers_tests;
pub mod phone;
pub mod price;
mod priceless;
pub mod product_id;
pub mod privacy;
pub mod questions;
pub mod retry_after;
pub mod search_text;
mod surroundings;
pub mod text;
mod title_edges;
mod title_kind;

pub use links::{LinkScan, WaLink, find_whatsapp_links, scan_whatsapp_links};
pub use offers::{Condition, ExtractContext, OfferDraft, extract_offers};
pub use key::normalize_title_key;
pub use text::clean_for_embedding;
