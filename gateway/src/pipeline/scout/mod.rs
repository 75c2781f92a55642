//! Scout: the network-free half of the scout stage. A catalog link (`<base>/c/<phone>`) is
//! fetched by the worker; [`catalog`] reads product ids and the next-page link from each page,
//! and the URL helpers here build the catalog and product URLs from the configured base
//! (`WHATSAPP_WEB_BASE_URL`, default `https://wa.me`), so tests point them at a local server.
//! [`diff`] compares a listing with the one before; [`resync`] scouts catalogs again when due.

pub mod catalog;
mod commit;
pub mod diff;
pub mod resync;
pub mod stage;

pub use catalog::{CatalogPage, extract_product_ids, find_next_page, scan_catalog_page};

use url::Url;

use crate::parse::product_id::is_product_id;

/// The production base for catalog and product pages.
pub const DEFAULT_WHATSAPP_WEB_BASE_URL: &str = "https://wa.me";

/// Why a catalog or product URL could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoutUrlError {
    #[error("product id must be exactly 16 digits")]
    InvalidProductId,
    #[error("seller phone must be 7 to 15 digits, optionally with a leading +")]
    InvalidPhone,
    #[error("base URL must be http(s) with a host and no query or fragment")]
    InvalidBase,
}

/// `<base>/c/<phone digits>`: a seller's catalog.
pub fn catalog_url(base: &Url, seller_phone: &str) -> Result<Url, ScoutUrlError> {
    let phone = phone_digits(seller_phone)?;
    join_segments(base, &["c", phone])
}

/// `<base>/p/<product id>/<phone digits>`: one product page, as the hydrate stage fetches it.
pub fn product_url(base: &Url, product_id: &str, seller_phone: &str) -> Result<Url, ScoutUrlError> {
    if !is_product_id(product_id) {
        return Err(ScoutUrlError::InvalidProductId);
    }
    let phone = phone_digits(seller_phone)?;
    join_segments(base, &["p", product_id, phone])
}

/// E.164 (`+254712345678`) or bare digits → the digits `wa.me` paths use.
fn phone_digits(phone: &str) -> Result<&str, ScoutUrlError> {
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    let ok = (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(digits).ok_or(ScoutUrlError::InvalidPhone)
}

fn join_segments(base: &Url, segments: &[&str]) -> Result<Url, ScoutUrlError> {
    let valid_base = matches!(base.scheme(), "http" | "https")
        && base.host_str().is_some()
        && base.query().is_none()
        && base.fragment().is_none();
    if !valid_base {
        return Err(ScoutUrlError::InvalidBase);
    }
    let mut url = base.clone();
    {
        let mut path = url.path_segments_mut().map_err(|()| ScoutUrlError::InvalidBase)?;
        path.pop_if_empty();
        path.extend(segments);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn builds_urls_from_the_configured_base() {
        let wa = base(DEFAULT_WHATSAPP_WEB_BASE_URL);
        assert_eq!(catalog_url(&wa, "+254712345678").unwrap().as_str(), "https://wa.me/c/254712345678");
        assert_eq!(
            product_url(&wa, "7100000000000001", "254712345678").unwrap().as_str(),
            "https://wa.me/p/7100000000000001/254712345678"
        );
        let local = base("http://127.0.0.1:3901/wa/");
        assert_eq!(catalog_url(&local, "254700000001").unwrap().as_str(), "http://127.0.0.1:3901/wa/c/254700000001");
        let local = base("http://127.0.0.1:3901");
        assert_eq!(
            product_url(&local, "7100000000000001", "+254700000001").unwrap().as_str(),
            "http://127.0.0.1:3901/p/7100000000000001/254700000001"
        );
    }

    #[test]
    fn refuses_bad_inputs() {
        let wa = base(DEFAULT_WHATSAPP_WEB_BASE_URL);
        assert_eq!(product_url(&wa, "123", "254712345678"), Err(ScoutUrlError::InvalidProductId));
        assert_eq!(product_url(&wa, "71000000000000011", "254712345678"), Err(ScoutUrlError::InvalidProductId));
        assert_eq!(product_url(&wa, "710000000000000a", "254712345678"), Err(ScoutUrlError::InvalidProductId));
        assert_eq!(catalog_url(&wa, "0712 345 678"), Err(ScoutUrlError::InvalidPhone));
        assert_eq!(catalog_url(&wa, "++254712345678"), Err(ScoutUrlError::InvalidPhone));
        assert_eq!(catalog_url(&base("ftp://wa.me"), "254712345678"), Err(ScoutUrlError::InvalidBase));
        assert_eq!(catalog_url(&base("https://wa.me/?x=1"), "254712345678"), Err(ScoutUrlError::InvalidBase));
        assert_eq!(catalog_url(&base("data:text/plain,x"), "254712345678"), Err(ScoutUrlError::InvalidBase));
    }

    proptest! {
        #[test]
        fn product_urls_round_trip_through_the_scout_pattern(id in "[0-9]{16}", phone in "[0-9]{7,15}") {
            let url = product_url(&base("https://wa.me"), &id, &phone).unwrap();
            let html = format!("<a href=\"{url}\">x</a>");
            prop_assert_eq!(extract_product_ids(&html), vec![id]);
        }

        #[test]
        fn never_panics(id in "\\PC{0,20}", phone in "\\PC{0,20}") {
            let _ = product_url(&base("https://wa.me"), &id, &phone);
            let _ = catalog_url(&base("http://x/"), &phone);
        }
    }
}
