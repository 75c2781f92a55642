//! Read APIs over extracted offers: `GET /offers`, `GET /vendors`,
//! `GET /price-history/product/{id}`.

use actix_web::{HttpResponse, web};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::errors::ApiError;
use crate::{parse::normalize_title_key, ingest::signature::parse_timestamp, app::AppState, store::market};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

#[derive(Deserialize)]
pub struct OffersQuery {
    vendor_id: Option<i64>,
    product_id: Option<String>,
    chat_id: Option<String>,
    /// RFC 3339 or unix seconds.
    since: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
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

pub async fn offers(query: web::Query<OffersQuery>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
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
    let filter = market::OfferFilter {
        vendor_id: query.vendor_id,
        product: query.product_id.as_deref().map(product_key),
        chat_id: query.chat_id,
        since_ms,
        before_id: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    };
    let offers = market::offers(&state.store.db, &filter).await?;
    let next_cursor = (offers.len() as i64 == limit).then(|| offers.last().map(|o| encode_cursor(o.id))).flatten();
    Ok(HttpResponse::Ok().json(json!({ "offers": offers, "next_cursor": next_cursor })))
}

pub async fn vendors(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let vendors = market::vendors(&state.store.db).await?;
    Ok(HttpResponse::Ok().json(json!({ "vendors": vendors })))
}

pub async fn price_history(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let requested = path.into_inner();
    let key = product_key(&requested);
    let points = market::price_history(&state.store.db, &key, 5_000).await?;
    if points.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(json!({ "product_id": requested, "product_key": key, "points": points })))
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
