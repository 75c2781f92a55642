//! What a product page tells us ([`ProductMeta`], with the tag each field came from) and why
//! a page yields none ([`PageError`]): the plain types the OG reader (`og.rs`) returns. Kept
//! apart from the stage so the readers compile on their own (the fuzz targets build them
//! without the rest of the gateway; `fuzz/shim-gateway`).

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
