//! The admin mapping of chats to vendors (seed 002 §7.1): `GET /admin/whatsapp`
//! lists chats, unmapped first; `GET /admin/whatsapp/{chat_id}` shows a
//! chat's latest messages and offers; `POST` maps it to a vendor (existing or
//! created inline) and re-extracts it fully, so its offers are re-attributed.
//! HTML by default, JSON with `Accept: application/json`.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::Deserialize;
use serde_json::json;

use super::{
    admin_views::{self, ChatDetail},
    auth,
    errors::ApiError,
};
use crate::{
    extraction::Mode,
    app::AppState,
    store::market::{self, VendorChoice},
    time::now_ms,
};

pub fn wants_json(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"))
}

fn html(markup: maud::Markup) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(markup.into_string())
}

pub async fn list(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let chats = market::chat_summaries(&state.store.db, 1_000).await?;
    if wants_json(&request) {
        return Ok(HttpResponse::Ok().json(json!({ "chats": chats })));
    }
    Ok(html(admin_views::chat_list(&chats)))
}

#[derive(Deserialize)]
pub struct DetailQuery {
    mapped: Option<String>,
}

pub async fn detail(
    request: HttpRequest,
    path: web::Path<String>,
    query: web::Query<DetailQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let chat_id = path.into_inner();
    let db = &state.store.db;
    let chat = market::chat_summary(db, &chat_id).await?.ok_or(ApiError::NotFound)?;
    let messages = market::latest_messages(db, &chat_id, 50).await?;
    let filter = market::OfferFilter { chat_id: Some(chat_id.clone()), limit: 100, ..Default::default() };
    let offers = market::offers(db, &filter).await?;
    let vendors = market::vendors(db).await?;
    if wants_json(&request) {
        return Ok(HttpResponse::Ok().json(json!({ "chat": chat, "messages": messages, "offers": offers, "vendors": vendors })));
    }
    let notice = query.mapped.as_ref().map(|_| "Mapping saved; the chat's offers were re-extracted for this vendor.");
    Ok(html(admin_views::chat_detail(&ChatDetail { chat: &chat, messages: &messages, offers: &offers, vendors: &vendors, notice })))
}

/// The mapping as a form or as JSON.
#[derive(Deserialize, Default)]
pub struct MappingForm {
    #[serde(default)]
    vendor_id: Option<String>,
    #[serde(default)]
    new_vendor_name: Option<String>,
    #[serde(default)]
    new_vendor_currency: Option<String>,
}

impl MappingForm {
    fn choice(&self) -> Result<VendorChoice, ApiError> {
        let name = self.new_vendor_name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if let Some(name) = name {
            if name.chars().count() > 200 {
                return Err(ApiError::BadRequest("vendor name is longer than 200 characters".into()));
            }
            let currency = self.new_vendor_currency.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_ascii_uppercase);
            if currency.as_deref().is_some_and(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
                return Err(ApiError::BadRequest("default currency must be a three-letter code such as KES".into()));
            }
            return Ok(VendorChoice::New { name: name.to_owned(), default_currency: currency });
        }
        match self.vendor_id.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(id) => id.parse().map(VendorChoice::Existing).map_err(|_| ApiError::BadRequest("vendor_id must be a number".into())),
            None => Err(ApiError::BadRequest("choose a vendor or name a new one".into())),
        }
    }
}

pub async fn map(
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth::require_same_origin(&request, &state)?;
    let chat_id = path.into_inner();
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let form: MappingForm = if content_type.starts_with("application/json") {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    } else {
        return Err(ApiError::UnsupportedMediaType);
    };
    let choice = form.choice()?;
    let vendor_id = market::map_chat(&state.store.db, &chat_id, choice, now_ms()).await?.ok_or(ApiError::NotFound)?;
    tracing::info!(vendor_id, "chat mapped to a vendor; re-extracting");
    let report = state.extraction.extract_now(&chat_id, Mode::Full).await?;
    if wants_json(&request) || content_type.starts_with("application/json") {
        return Ok(HttpResponse::Ok().json(json!({ "chat_id": chat_id, "vendor_id": vendor_id, "report": report })));
    }
    let location = format!("/admin/whatsapp/{}?mapped={vendor_id}", admin_views::urlencode(&chat_id));
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish())
}
