//! Read APIs over extracted offers: `GET /offers`, `GET /vendors` (the price history of a
//! product is `price_history.rs`).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{
    auth,
    errors::ApiError,
    list_cursor,
    openapi::ReadErrors,
    views::{layout, market as pages},
};
use crate::{
    app::AppState,
    domain::Offer,
    ingest::signature::parse_timestamp,
    parse::{normalize_title_key, phone::normalize_phone},
    store::{
        admin_lists,
        market::{self, Vendor},
    },
    time::now_ms,
};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OffersQuery {
    /// Only offers attributed to this vendor.
    #[serde(default, deserialize_with = "list_cursor::empty_as_none")]
    #[param(value_type = Option<i64>)]
    vendor_id: Option<i64>,
    /// A 16-digit WhatsApp product id, or a title (matched by its normalised key).
    product_id: Option<String>,
    /// Only offers of this chat.
    chat_id: Option<String>,
    /// Only the rows of this vendor document (`GET /documents/{id}` links here).
    #[serde(default, deserialize_with = "list_cursor::empty_as_none")]
    #[param(value_type = Option<i64>)]
    document_id: Option<i64>,
    /// Only offers posted by this sender: E.164 (`+254712345678`) or a WhatsApp JID
    /// (`254712345678@s.whatsapp.net`).
    #[param(example = "+254712345678")]
    sender: Option<String>,
    /// RFC 3339, unix seconds, or a date (midnight in `ADMIN_TIME_ZONE`).
    since: Option<String>,
    /// Text in the offer's title (case-insensitive).
    q: Option<String>,
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
    /// Present when a page asked for (`limit`, `q` or `cursor`) is full: pass it as `cursor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VendorsQuery {
    /// Text in the vendor's name (case-insensitive).
    q: Option<String>,
    /// Page size, 1 to 500 (every vendor when no parameter is given).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
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
pub(super) fn product_key(raw: &str) -> String {
    let raw = raw.trim();
    if raw.len() >= 15 && raw.bytes().all(|b| b.is_ascii_digit()) { raw.to_owned() } else { normalize_title_key(raw) }
}

/// `since` as RFC 3339, unix seconds, or a date (midnight in the operator's time zone).
fn parse_since(raw: &str, zone: chrono_tz::Tz) -> Result<i64, ApiError> {
    if let Some(at) = parse_timestamp(raw) {
        return Ok(at.timestamp_millis());
    }
    let bad = || {
        ApiError::BadRequest("since must be RFC 3339, unix seconds or a date (YYYY-MM-DD)".into())
    };
    let date = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    let midnight = date.and_hms_opt(0, 0, 0).ok_or_else(bad)?;
    use chrono::TimeZone;
    zone.from_local_datetime(&midnight)
        .earliest()
        .map(|at| at.timestamp_millis())
        .ok_or_else(bad)
}

#[utoipa::path(
    get, path = "/offers", tag = "read", summary = "Extracted offers, filtered and paged (HTML with `Accept: text/html`)",
    params(OffersQuery),
    security(("read_token" = []), ("admin_basic" = [])),
    responses((status = 200, description = "A page of offers", content((OffersPage = "application/json"), (String = "text/html"))), ReadErrors),
)]
pub async fn offers(
    request: HttpRequest,
    query: web::Query<OffersQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let zone = state.console.time_zone;
    // A filter form sends its empty fields; for a page they mean "any".
    let html = layout::wants_html(&request);
    let since = query
        .since
        .as_deref()
        .filter(|s| !html || !s.trim().is_empty());
    let since_ms = since.map(|raw| parse_since(raw, zone)).transpose()?;
    let chat_id = query.chat_id.filter(|c| !html || !c.trim().is_empty());
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let sender = match query.sender.as_deref().filter(|s| !html || !s.trim().is_empty()) {
        Some(raw) => Some(
            normalize_phone(raw, state.extraction.config.region)
                .ok_or_else(|| ApiError::BadRequest("sender must be a phone number in E.164 or a WhatsApp JID".into()))?,
        ),
        None => None,
    };
    let filter = market::OfferFilter {
        vendor_id: query.vendor_id,
        product: query
            .product_id
            .as_deref()
            .filter(|p| !html || !p.trim().is_empty())
            .map(product_key),
        chat_id: chat_id.clone(),
        document_id: query.document_id,
        sender,
        since_ms,
        title_pattern: query.q.as_deref().and_then(admin_lists::like_pattern),
        before_id: cursor.map(decode_cursor).transpose()?,
        limit,
    };
    let db = &state.store.db;
    let mut offers = market::offers(db, &filter).await?;
    let next_cursor = (offers.len() as i64 == limit)
        .then(|| offers.last().map(|o| encode_cursor(o.id)))
        .flatten();
    mask_senders_for(&request, &state, &mut offers);
    if !html {
        return Ok(HttpResponse::Ok().json(OffersPage {
            offers,
            next_cursor,
        }));
    }
    let vendors = market::vendors(db).await?;
    let pks: Vec<i64> = offers.iter().filter_map(|o| o.source_message_pk).collect();
    let sent_at: HashMap<i64, i64> = admin_lists::message_times(db, &pks)
        .await?
        .into_iter()
        .filter_map(|(pk, at)| at.map(|at| (pk, at)))
        .collect();
    let mut chat_ids: Vec<&str> = offers.iter().filter_map(|o| o.chat_id.as_deref()).collect();
    chat_ids.sort_unstable();
    chat_ids.dedup();
    let chat_titles: HashMap<String, String> = admin_lists::chat_titles(db, &chat_ids)
        .await?
        .into_iter()
        .collect();
    let filters = pages::OfferFilters {
        q: query.q.filter(|q| !q.trim().is_empty()),
        vendor_id: query.vendor_id,
        chat_id,
        since: since.map(str::to_owned),
        paged: cursor.is_some(),
    };
    Ok(layout::ok(pages::offers_page(&pages::OffersView {
        offers: &offers,
        vendors: &vendors,
        chat_titles: &chat_titles,
        sent_at: &sent_at,
        filters: &filters,
        next_cursor: next_cursor.as_deref(),
        zone,
        now_ms: now_ms(),
    })))
}

/// Senders in full for the admin token, masked to their last three digits for anyone else.
pub fn mask_senders_for(request: &HttpRequest, state: &AppState, offers: &mut [Offer]) {
    if !auth::is_admin(request, state) {
        offers.iter_mut().for_each(Offer::mask_sender);
    }
}

#[utoipa::path(
    get, path = "/vendors", tag = "read", summary = "Vendors with their chat and offer counts (HTML with `Accept: text/html`)",
    params(VendorsQuery),
    security(("read_token" = []), ("admin_basic" = [])),
    responses((status = 200, description = "Every vendor, or a page of them", content((VendorList = "application/json"), (String = "text/html"))), ReadErrors),
)]
pub async fn vendors(
    request: HttpRequest,
    query: web::Query<VendorsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let html = layout::wants_html(&request);
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let db = &state.store.db;
    if !html && q.is_none() && cursor.is_none() && query.limit.is_none() {
        let vendors = market::vendors(db).await?;
        return Ok(HttpResponse::Ok().json(VendorList {
            vendors,
            next_cursor: None,
        }));
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let after = cursor.map(list_cursor::parse_vendor).transpose()?;
    let page_query = admin_lists::VendorQuery {
        pattern: q.and_then(admin_lists::like_pattern),
        after,
        limit,
    };
    let vendors = admin_lists::vendors(db, &page_query).await?;
    let next_cursor = (vendors.len() as i64 == limit)
        .then(|| vendors.last().map(|v| list_cursor::vendor(&v.name, v.id)))
        .flatten();
    if !html {
        return Ok(HttpResponse::Ok().json(VendorList {
            vendors,
            next_cursor,
        }));
    }
    Ok(layout::ok(pages::vendors_page(&pages::VendorsView {
        vendors: &vendors,
        q,
        next_cursor: next_cursor.as_deref(),
        paged: cursor.is_some(),
        zone: state.console.time_zone,
        now_ms: now_ms(),
    })))
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
