//! A search request as the API takes it (strings, as they come in the query string),
//! checked and turned into a [`SearchRequest`]: an empty query, a price range upside down,
//! a malformed number or a cursor this API did not hand out are refused; `limit` above
//! [`MAX_LIMIT`] is capped. The result is also the cache key's canonical form.

use base64::Engine;

use super::SearchError;
use crate::{
    parse::search_text::query_terms,
    store::search_index::{ListingFilter, ListingKind, VendorRef},
};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
/// The deepest result a cursor may reach.
pub const MAX_OFFSET: usize = 1_000;
/// The longest query text taken.
pub const MAX_QUERY_BYTES: usize = 512;
const CONDITIONS: [&str; 4] = ["new", "ex_uk", "refurbished", "used"];

/// The query string of `GET /search`, unchecked: each value is taken as text, and [`Self::check`]
/// says what is wrong with it. The search page's form is the same request.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawSearch {
    /// What to look for; typos and partial words match (`iphon 13`, `samsng a14`).
    #[param(example = "iphone 13 256gb")]
    pub q: Option<String>,
    /// `offer`, `product` or `all` (default).
    #[param(value_type = Option<String>, example = "all")]
    pub kind: Option<String>,
    /// A vendor id, or a vendor name (any case).
    pub vendor: Option<String>,
    /// ISO 4217, such as `KES`, `NGN`, `USD`.
    pub currency: Option<String>,
    /// Lowest price, an exact decimal (a product's price is its newest linking offer's).
    #[param(value_type = Option<String>, example = "10000")]
    pub price_min: Option<String>,
    /// Highest price; must not be below `price_min`.
    #[param(value_type = Option<String>, example = "50000")]
    pub price_max: Option<String>,
    /// `new`, `ex_uk`, `refurbished` or `used`.
    pub condition: Option<String>,
    /// `true` (default): active products only; `false`: inactive ones too.
    #[param(value_type = Option<bool>)]
    pub active: Option<String>,
    /// Page size, default 20; above 100 is capped to 100.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Which retrievers to ask: `text`, `semantic` (MiniLM vectors) or `hybrid` (both, fused by
    /// reciprocal rank fusion). Default: every one configured, so `hybrid` when
    /// `SEARCH_TEXT_MODEL_DIR` is set. `semantic` and `hybrid` answer 503 without the model.
    #[param(value_type = Option<String>, example = "hybrid")]
    pub mode: Option<String>,
}

/// Which retrievers a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wanted {
    /// Every retriever that is configured (`mode` absent).
    Configured,
    Text,
    Semantic,
    /// Text and semantic, fused; refused when semantic search is off.
    Hybrid,
}

/// A checked search request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchRequest {
    pub text: String,
    pub terms: Vec<String>,
    pub kinds: Vec<ListingKind>,
    pub filter: ListingFilter,
    pub limit: usize,
    pub offset: usize,
    pub wanted: Wanted,
}

fn bad(message: impl Into<String>) -> SearchError {
    SearchError::BadRequest(message.into())
}

/// An exact non-negative decimal (`18500`, `0.99`), kept as text.
fn price(name: &str, raw: Option<String>) -> Result<Option<String>, SearchError> {
    let Some(raw) = raw.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let value: rust_decimal::Decimal = raw
        .parse()
        .map_err(|_| bad(format!("{name} must be a decimal number")))?;
    if value.is_sign_negative() {
        return Err(bad(format!("{name} must not be negative")));
    }
    Ok(Some(value.normalize().to_string()))
}

pub fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("search:{offset}"))
}

fn decode_cursor(cursor: &str) -> Result<usize, SearchError> {
    let refused = || bad("cursor is not one this API handed out");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| refused())?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    let offset: usize = text
        .strip_prefix("search:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(refused)?;
    if offset == 0 || offset > MAX_OFFSET {
        Err(refused())
    } else {
        Ok(offset)
    }
}

impl RawSearch {
    pub fn check(self) -> Result<SearchRequest, SearchError> {
        let text = self
            .q
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        if text.is_empty() {
            return Err(bad("q must not be empty"));
        }
        if text.len() > MAX_QUERY_BYTES {
            return Err(bad(format!("q must be at most {MAX_QUERY_BYTES} bytes")));
        }
        let terms = query_terms(&text);
        if terms.is_empty() {
            return Err(bad("q has no letters or digits to search for"));
        }
        let kinds = match self.kind.as_deref().map(str::trim).unwrap_or("all") {
            "all" | "" => vec![ListingKind::Offer, ListingKind::Product],
            "offer" => vec![ListingKind::Offer],
            "product" => vec![ListingKind::Product],
            _ => return Err(bad("kind must be offer, product or all")),
        };
        let vendor = self
            .vendor
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(|v| match v.parse::<i64>() {
                Ok(id) => VendorRef::Id(id),
                Err(_) => VendorRef::Name(v),
            });
        let currency = match self
            .currency
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
        {
            Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => Some(c),
            Some(_) => return Err(bad("currency must be an ISO 4217 code such as KES")),
            None => None,
        };
        let price_min = price("price_min", self.price_min)?;
        let price_max = price("price_max", self.price_max)?;
        if let (Some(min), Some(max)) = (&price_min, &price_max) {
            let (min, max): (rust_decimal::Decimal, rust_decimal::Decimal) = (
                min.parse().unwrap_or_default(),
                max.parse().unwrap_or_default(),
            );
            if min > max {
                return Err(bad("price_min must not be above price_max"));
            }
        }
        let condition = match self
            .condition
            .map(|c| c.trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty())
        {
            Some(c) if CONDITIONS.contains(&c.as_str()) => Some(c),
            Some(_) => return Err(bad("condition must be new, ex_uk, refurbished or used")),
            None => None,
        };
        let active_only = match self.active.as_deref().map(str::trim) {
            None | Some("") | Some("true") => true,
            Some("false") => false,
            Some(_) => return Err(bad("active must be true or false")),
        };
        let limit = match self
            .limit
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<u64>() {
                Ok(0) | Err(_) => {
                    return Err(bad(
                        "limit must be a whole number from 1 (above 100 is capped)",
                    ));
                }
                Ok(n) => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
            },
        };
        let offset = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(cursor) => decode_cursor(cursor)?,
            None => 0,
        };
        let wanted = match self.mode.as_deref().map(str::trim) {
            None | Some("") => Wanted::Configured,
            Some("text") => Wanted::Text,
            Some("semantic") => Wanted::Semantic,
            Some("hybrid") => Wanted::Hybrid,
            Some(_) => return Err(bad("mode must be text, semantic or hybrid")),
        };
        let filter = ListingFilter {
            vendor,
            currency,
            price_min,
            price_max,
            condition,
            active_only,
        };
        Ok(SearchRequest {
            text,
            terms,
            kinds,
            filter,
            limit,
            offset,
            wanted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(q: &str) -> RawSearch {
        RawSearch {
            q: Some(q.into()),
            ..RawSearch::default()
        }
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(RawSearch::default().check().is_err());
        assert!(raw("   ").check().is_err());
        assert!(raw("?!").check().is_err());
        assert!(raw(&"x".repeat(MAX_QUERY_BYTES + 1)).check().is_err());
        assert!(
            RawSearch {
                price_min: Some("10".into()),
                price_max: Some("9.5".into()),
                ..raw("sofa")
            }
            .check()
            .is_err()
        );
        assert!(
            RawSearch {
                price_min: Some("ten".into()),
                ..raw("sofa")
            }
            .check()
            .is_err()
        );
        assert!(
            RawSearch {
                price_min: Some("-1".into()),
                ..raw("sofa")
            }
            .check()
            .is_err()
        );
        assert!(
            RawSearch {
                cursor: Some("forged".into()),
                ..raw("sofa")
            }
            .check()
            .is_err()
        );
        assert!(
            RawSearch {
                cursor: Some(encode_cursor(MAX_OFFSET + 1)),
                ..raw("sofa")
            }
            .check()
            .is_err()
        );
        assert!(
            RawSearch {
                kind: Some("vendor".into()),
                ..raw("sofa")
            }
            .check()
            .is_err()
        );
        assert!(
            RawSearch {
                limit: Some("0".into()),
                ..raw("sofa")
            }
            .check()
            .is_err()
        );
        assert!(
            RawSearch {
                currency: Some("shillings".into()),
                ..raw("sofa")
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn good_input_is_normalised() {
        let checked = RawSearch {
            limit: Some("500".into()),
            currency: Some("kes".into()),
            price_min: Some("100.50".into()),
            price_max: Some("100.5".into()),
            vendor: Some("7".into()),
            cursor: Some(encode_cursor(40)),
            ..raw("  iPhone13 256GB ")
        }
        .check()
        .expect("valid");
        assert_eq!(checked.limit, MAX_LIMIT);
        assert_eq!(checked.offset, 40);
        assert_eq!(checked.terms, ["iphone", "13", "256", "gb"]);
        assert_eq!(checked.filter.currency.as_deref(), Some("KES"));
        assert_eq!(checked.filter.price_min.as_deref(), Some("100.5"));
        assert_eq!(checked.filter.vendor, Some(VendorRef::Id(7)));
        assert!(checked.filter.active_only);
        assert_eq!(checked.kinds.len(), 2);
    }
}
