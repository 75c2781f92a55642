//! Hydrate: the network-free half of the hydrate stage. It turns a fetched product page
//! (bytes plus `Content-Type`) into [`ProductMeta`], classifies HTTP outcomes, reads
//! `Retry-After`, and rotates User-Agents. The worker that fetches pages, honours the
//! caps and talks to the queue lives beside it and calls these functions.
//!
//! Typical use by the worker, after a fetch:
//! ```ignore
//! match classify_status(status) {
//!     HydrateStatusClass::Ok => {
//!         let (html, _encoding) = decode_html(&body, content_type.as_deref());
//!         match parse_product_page(&html, &page_url) { Ok(meta) => …, Err(PageError::NotAProductPage) => … }
//!     }
//!     HydrateStatusClass::RateLimited | HydrateStatusClass::Retryable => {
//!         let wait = retry_after.and_then(|v| parse_retry_after(v, SystemTime::now()).ok());
//!         …
//!     }
//!     HydrateStatusClass::Gone => … // mark inactive, log hydrate_404
//!     HydrateStatusClass::Terminal => …
//! }
//! ```

pub mod charset;
pub mod og;
mod page;
#[cfg(test)]
mod product_id_tests;
pub mod status;
pub mod stage;
pub mod user_agents;

pub use charset::{CharsetSource, decode_html, decode_html_with_source};
pub use og::parse_product_page;
pub use page::{ImageSource, PageError, ProductMeta, TitleSource};
pub use status::{HydrateStatusClass, RetryAfterError, classify_status, parse_retry_after};
pub use user_agents::{DEFAULT_USER_AGENTS, UserAgentError, UserAgentPool};
