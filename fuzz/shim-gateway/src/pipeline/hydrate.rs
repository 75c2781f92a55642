//! `gateway::pipeline::hydrate`: the charset sniffer, the Open Graph reader
//! and the page types they return.

#[path = "../../../../gateway/src/pipeline/hydrate/charset.rs"]
pub mod charset;
#[path = "../../../../gateway/src/pipeline/hydrate/og.rs"]
pub mod og;
#[path = "../../../../gateway/src/pipeline/hydrate/page.rs"]
mod page;

pub use page::{ImageSource, PageError, ProductMeta, TitleSource};
