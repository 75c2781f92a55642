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
#[cfg(test)]
mod product_id_tests;
pub mod status;
pub mod stage;
pub mod user_agents;

pub use charset::{CharsetSource, decode_html, decode_html_with_source};
pub use og::parse_product_page;
pub use status::{HydrateStatusClass, RetryAfterError, classify_status, parse_retry_after};
pub use user_agents::{DEFAULT_USER_AGENTS, UserAgentError, UserAgentPool};

use url::Url;

/// What a product page tells us. At least one of `title` and `image_url` is present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Absolute http(s) URL, usually on the Meta CDN.
    pub image_url: Option<Url>,
    pub title_source: Option<TitleSource>,
    pub image_source: Option<ImageSource>,
}

/// Which tag supplied the title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleSource {
    OgTitle,
    TwitterTitle,
    HtmlTitle,
}

/// Which tag supplied the image, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource {
    OgImageSecureUrl,
    OgImageUrl,
    OgImage,
    TwitterImage,
}

impl ImageSource {
    /// The tag name, for event details.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OgImageSecureUrl => "og:image:secure_url",
            Self::OgImageUrl => "og:image:url",
            Self::OgImage => "og:image",
            Self::TwitterImage => "twitter:image",
        }
    }
}

/// Why a fetched page yields no product.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// Neither a usable title nor a usable image: a deleted product's landing page, a login
    /// wall, or not a product link at all. Terminal: retrying will not help.
    #[error("not a product page: no title and no image")]
    NotAProductPage,
}
