//! Read APIs over extracted offers: `GET /offers`, `GET /vendors`,
//! `GET /price-history/product/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{
    auth,
    errors::{ApiError, ErrorBody},
    openapi::ReadErrors,
};
use crate::{
    app::AppState,
    domain::Offer,
    ingest::signature::parse_timestamp,
    parse::{normalize_title_key, phone::normalize_phone},
    store::market::{self, PricePoint, Vendor},
};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OffersQuery {
    /// Only offers attributed to this vendor.
    vendor_id: Option<i64>,
    /// A 16-digit WhatsApp product id, or a title (matched by its normalised key).
    product_id: Option<String>,
    /// Only offers of this chat.
    chat_id: Option<String>,
    /// Only offers posted by this sender: E.164 (`+254712345678`) or a WhatsApp JID
    /// (`254712345678@s.whatsapp.net`).
    #[param(example = "+254712345678")]
    sender: Option<String>,
    /// RFC 3339 or unix seconds.
    since: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of offers, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OffersPage {
    pub offers: Vec<Offer>,
    /// Present when the page is full: pass it as `cursor` for the next one.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VendorList {
    pub vendors: Vec<Vendor>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PriceHistory {
    /// As requested.
    pub product_id: String,
    /// The normalised key it was matched by.
    pub product_key: String,
    pub points: Vec<PricePoint>,
}

fn encode_cursor(id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offer:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::BadRequest("cursor is not one this API handed out".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix("offer:").and_then(|id| id.parse().ok()).ok_or_else(bad)
}

/// A product is named by its 16-digit WhatsApp id or by a title, which is
/// reduced to the same normalised key extraction stores.
fn product_key(raw: &str) -> String {
    let raw = raw.trim();
    if raw.len() >= 15 && raw.bytes().all(|b| b.is_ascii_digit()) { raw.to_owned() } else { normalize_title_key(raw) }
}

#[utoipa::path(
    get, path = "/offers", tag = "read", summary = "Extracted offers, filtered and paged",
    params(OffersQuery),
    security(("read_token" = []), ("admin_basic" = [])),
    responses((status = 200, description = "A page of offers", body = OffersPage), ReadErrors),
)]
pub async fn offers(request: HttpRequest, query: web::Query<OffersQuery>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let since_ms = match query.since.as_deref() {
        Some(raw) => Some(
            parse_timestamp(raw)
                .ok_or_else(|| ApiError::BadRequest("since must be RFC 3339 or unix seconds".into()))?
                .timestamp_millis(),
        ),
        None => None,
    };
    let sender = match query.sender.as_deref() {
        Some(raw) => Some(
            normalize_phone(raw, state.extraction.config.region)
                .ok_or_else(|| ApiError::BadRequest("sender must be a phone number in E.164 or a WhatsApp JID".into()))?,
        ),
        None => None,
    };
    let filter = market::OfferFilter {
        vendor_id: query.vendor_id,
        product: query.product_id.as_deref().map(product_key),
        chat_id: query.chat_id,
        sender,
        since_ms,
        before_id: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    };
    let mut offers = market::offers(&state.store.db, &filter).await?;
    let next_cursor = (offers.len() as i64 == limit).then(|| offers.last().map(|o| encode_cursor(o.id))).flatten();
    mask_senders_for(&request, &state, &mut offers);
    Ok(HttpResponse::Ok().json(OffersPage { offers, next_cursor }))
}

/// Senders in full for the admin token, masked to their last three digits for anyone else.
pub fn mask_senders_for(request: &HttpRequest, state: &AppState, offers: &mut [Offer]) {
    if !auth::is_admin(request, state) {
        offers.iter_mut().for_each(Offer::mask_sender);
    }
}

#[utoipa::path(
    get, path = "/vendors", tag = "read", summary = "Vendors with their chat and offer counts",
    security(("read_token" = []), ("admin_basic" = [])),
    responses((status = 200, description = "Every vendor", body = VendorList), ReadErrors),
)]
pub async fn vendors(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let vendors = market::vendors(&state.store.db).await?;
    Ok(HttpResponse::Ok().json(VendorList { vendors }))
}

#[utoipa::path(
    get, path = "/price-history/product/{id}", tag = "read", summary = "Prices of one product over time, across vendors",
    params(("id" = String, Path, description = "A 16-digit WhatsApp product id, or a product title", example = "Samsung A15 128GB")),
    security(("read_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Priced offers of the product, oldest first", body = PriceHistory),
        (status = 404, description = "No priced offer of this product", body = ErrorBody),
        ReadErrors,
    ),
)]
pub async fn price_history(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let requested = path.into_inner();
    let key = product_key(&requested);
    let points = market::price_history(&state.store.db, &key, 5_000).await?;
    if points.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(PriceHistory { product_id: requested, product_key: key, points }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        assert_eq!(decode_cursor(&encode_cursor(42)).ok(), Some(42));
        assert!(decode_cursor("42").is_err());
        assert!(decode_cursor("!!!").is_err());
    }

    #[test]
    fn products_are_ids_or_title_keys() {
        assert_eq!(product_key("1234567890123456"), "1234567890123456");
        assert_eq!(product_key("Pixel 8 Pro"), normalize_title_key("Pixel 8 Pro"));
    }
}
