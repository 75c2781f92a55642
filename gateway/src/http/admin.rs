//! The admin mapping of chats to vendors (seed 002 §7.1): `GET /admin/whatsapp`
//! lists chats, unmapped first; `GET /admin/whatsapp/{chat_id}` shows a
//! chat's latest messages and offers; `POST` maps it to a vendor (existing or
//! created inline) and re-extracts the messages of its senders without a
//! vendor of their own (`admin_senders` maps those), so their offers are
//! re-attributed.
//! HTML by default, JSON with `Accept: application/json`.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::{Deserialize, Serialize};

use super::{
    admin_views::{self, ChatDetail},
    auth,
    errors::ApiError,
    openapi::AdminErrors,
};
use crate::{
    app::AppState,
    domain::Offer,
    extraction::{ExtractionReport, Mode, attribution::Scope},
    store::market::{self, ChatSummary, MessageView, Vendor, VendorChoice},
    time::now_ms,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChatList {
    /// Unmapped chats first, then by latest activity (at most 1000).
    pub chats: Vec<ChatSummary>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChatDetailJson {
    pub chat: ChatSummary,
    /// The latest 50 messages.
    pub messages: Vec<MessageView>,
    /// The chat's latest 100 offers.
    pub offers: Vec<Offer>,
    /// Every vendor, to map the chat to.
    pub vendors: Vec<Vendor>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MappingAnswer {
    pub chat_id: String,
    pub vendor_id: i64,
    /// The full re-extraction that re-attributed the chat's offers.
    pub report: ExtractionReport,
}

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

#[utoipa::path(
    get, path = "/admin/whatsapp", tag = "admin", summary = "Chats and their vendors (HTML, or JSON with `Accept: application/json`)",
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "The chat list", content((ChatList = "application/json"), (String = "text/html"))),
        AdminErrors,
    ),
)]
pub async fn list(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let chats = market::chat_summaries(&state.store.db, 1_000).await?;
    if wants_json(&request) {
        return Ok(HttpResponse::Ok().json(ChatList { chats }));
    }
    Ok(html(admin_views::chat_list(&chats)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetailQuery {
    /// Set after a mapping was saved: the page shows a notice.
    mapped: Option<String>,
    /// A message of the chat to show even when it is not among the latest (an offer's link).
    message: Option<i64>,
}

#[utoipa::path(
    get, path = "/admin/whatsapp/{chat_id}", tag = "admin", summary = "A chat's latest messages and offers, and the mapping form",
    params(("chat_id" = String, Path, description = "The chat id as stored", example = "120363000000000001@g.us"), DetailQuery),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "The chat", content((ChatDetailJson = "application/json"), (String = "text/html"))),
        AdminErrors,
    ),
)]
pub async fn detail(
    request: HttpRequest,
    path: web::Path<String>,
    query: web::Query<DetailQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let chat_id = path.into_inner();
    let db = &state.store.db;
    let chat = market::chat_summary(db, &chat_id).await?.ok_or(ApiError::NotFound)?;
    let mut messages = market::latest_messages(db, &chat_id, 50).await?;
    if let Some(pk) = query.message.filter(|pk| !messages.iter().any(|m| m.id == *pk)) {
        messages.extend(market::message_in_chat(db, &chat_id, pk).await?);
    }
    let filter = market::OfferFilter { chat_id: Some(chat_id.clone()), limit: 100, ..Default::default() };
    let offers = market::offers(db, &filter).await?;
    let vendors = market::vendors(db).await?;
    if wants_json(&request) {
        return Ok(HttpResponse::Ok().json(ChatDetailJson { chat, messages, offers, vendors }));
    }
    let notice = query.mapped.as_ref().map(|_| "Mapping saved; the chat's offers were re-extracted for this vendor.");
    Ok(html(admin_views::chat_detail(&ChatDetail { chat: &chat, messages: &messages, offers: &offers, vendors: &vendors, notice })))
}

/// The mapping as a form or as JSON: an existing `vendor_id`, or a new vendor's name (and
/// optionally its three-letter default currency).
#[derive(Deserialize, Default, utoipa::ToSchema)]
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

#[utoipa::path(
    post, path = "/admin/whatsapp/{chat_id}", tag = "admin", summary = "Map a chat to a vendor and re-extract it",
    params(("chat_id" = String, Path, description = "The chat id as stored", example = "120363000000000001@g.us")),
    request_body(content(
        (MappingForm = "application/json"), (MappingForm = "application/x-www-form-urlencoded"),
    )),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Mapped (JSON requests)", body = MappingAnswer),
        (status = 303, description = "Mapped (form posts): back to the chat's page"),
        AdminErrors,
    ),
)]
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
    // Senders with a vendor of their own keep it: only the others' messages are extracted again.
    let report = state.extraction.extract_scoped(&chat_id, Mode::Full, Scope::ChatDefault).await?;
    if wants_json(&request) || content_type.starts_with("application/json") {
        return Ok(HttpResponse::Ok().json(MappingAnswer { chat_id, vendor_id, report }));
    }
    let location = format!("/admin/whatsapp/{}?mapped={vendor_id}", admin_views::urlencode(&chat_id));
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish())
}
