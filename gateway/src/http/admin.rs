//! The admin mapping of chats to vendors (seed 002 §7.1): `GET /admin/whatsapp`
//! lists chats, unmapped first; `GET /admin/whatsapp/{chat_id}` shows a
//! chat's latest messages and offers; `POST` maps it to a vendor (existing or
//! created inline) and re-extracts the messages of its senders without a
//! vendor of their own (`admin_senders` maps those), so their offers are
//! re-attributed.
//! HTML by default, JSON with `Accept: application/json`.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use serde::{Deserialize, Serialize};

use super::{
    admin_views::{self, ChatDetail, FormValues},
    auth,
    errors::ApiError,
    list_cursor,
    openapi::AdminErrors,
    views::{
        self,
        chats::{ChatFilters, ChatListView},
        layout,
    },
};
use crate::{
    app::AppState,
    domain::Offer,
    extraction::{ExtractionReport, Mode, attribution::Scope},
    store::{
        admin_lists,
        market::{self, ChatSummary, MessageView, Vendor, VendorChoice},
    },
    time::now_ms,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChatList {
    /// Unmapped chats first, then by latest activity (at most `limit`: 1000 by default for JSON).
    pub chats: Vec<ChatSummary>,
    /// Present when the page is full: pass it as `cursor` for the next one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatListQuery {
    /// Text in the chat's title or id (case-insensitive).
    q: Option<String>,
    /// `no` for unmapped chats only, `yes` for mapped ones.
    #[param(pattern = "^(yes|no)?$")]
    mapped: Option<String>,
    /// Only chats mapped to this vendor.
    vendor_id: Option<String>,
    /// Page size, 1 to 1000 (default 1000 for JSON, 50 for the page).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Hide the chats whose messages all come from clients whose `client_id`
    /// starts with this (test traffic; the harness uses `soko-load-`): the
    /// chats `POST /admin/purge` would remove. Empty: show all.
    hide_client_prefix: Option<String>,
}

#[utoipa::path(
    get, path = "/admin/whatsapp", tag = "admin", summary = "Chats and their vendors (HTML, or JSON with `Accept: application/json`)",
    params(ChatListQuery),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "The chat list", content((ChatList = "application/json"), (String = "text/html"))),
        AdminErrors,
    ),
)]
pub async fn list(
    request: HttpRequest,
    query: web::Query<ChatListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let json = wants_json(&request);
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(if json { 1_000 } else { 50 });
    if !(1..=1_000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let mapped = match query.mapped.as_deref().map(str::trim).unwrap_or_default() {
        "" => None,
        "yes" => Some(true),
        "no" => Some(false),
        _ => return Err(ApiError::BadRequest("mapped must be yes or no".into())),
    };
    let vendor_id = match query
        .vendor_id
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| ApiError::BadRequest("vendor_id must be a number".into()))?,
        ),
        None => None,
    };
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let after = cursor.map(list_cursor::parse_chat).transpose()?.map(
        |(mapped, last_message_at_ms, chat_id)| admin_lists::ChatKey {
            mapped,
            last_message_at_ms,
            chat_id,
        },
    );
    let db = &state.store.db;
    let chat_query = admin_lists::ChatQuery {
        pattern: query.q.as_deref().and_then(admin_lists::like_pattern),
        mapped,
        vendor_id,
        after,
        limit,
        hide_client_prefix: query.hide_client_prefix.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned),
    };
    let chats = admin_lists::chats(db, &chat_query).await?;
    let next_cursor = (chats.len() as i64 == limit)
        .then(|| chats.last().map(admin_lists::ChatKey::of))
        .flatten()
        .map(|key| list_cursor::chat(key.mapped, key.last_message_at_ms, &key.chat_id));
    if json {
        return Ok(HttpResponse::Ok().json(ChatList { chats, next_cursor }));
    }
    let vendors = market::vendors(db).await?;
    let filters = ChatFilters {
        q: query.q.filter(|q| !q.trim().is_empty()),
        mapped: mapped.map(|m| if m { "yes" } else { "no" }.to_owned()),
        vendor_id,
        paged: cursor.is_some(),
    };
    let view = ChatListView {
        chats: &chats,
        vendors: &vendors,
        filters: &filters,
        next_cursor: next_cursor.as_deref(),
        zone: state.console.time_zone,
        now_ms: now_ms(),
    };
    Ok(layout::ok(views::chats::chat_list(&view)))
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
    if wants_json(&request) {
        let db = &state.store.db;
        let chat = market::chat_summary(db, &chat_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let messages = market::latest_messages(db, &chat_id, 50).await?;
        let filter = market::OfferFilter {
            document_id: None,
            chat_id: Some(chat_id.clone()),
            limit: 100,
            ..Default::default()
        };
        let offers = market::offers(db, &filter).await?;
        let vendors = market::vendors(db).await?;
        return Ok(HttpResponse::Ok().json(ChatDetailJson {
            chat,
            messages,
            offers,
            vendors,
        }));
    }
    let notice = query
        .mapped
        .as_ref()
        .map(|_| "Mapping saved; the chat's offers were re-extracted for this vendor.");
    detail_page(
        &state,
        &chat_id,
        StatusCode::OK,
        notice,
        None,
        &FormValues::default(),
        query.message,
    )
    .await
}

/// The chat's page, with a notice or an error above the mapping form and the form as submitted.
async fn detail_page(
    state: &AppState,
    chat_id: &str,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
    form: &FormValues,
    message: Option<i64>,
) -> Result<HttpResponse, ApiError> {
    let db = &state.store.db;
    let chat = market::chat_summary(db, chat_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut messages = market::latest_messages(db, chat_id, 50).await?;
    if let Some(pk) = message.filter(|pk| !messages.iter().any(|m| m.id == *pk)) {
        messages.extend(market::message_in_chat(db, chat_id, pk).await?);
    }
    let filter = market::OfferFilter {
        document_id: None,
        chat_id: Some(chat_id.to_owned()),
        limit: 100,
        ..Default::default()
    };
    let offers = market::offers(db, &filter).await?;
    let vendors = market::vendors(db).await?;
    let pks: Vec<i64> = offers.iter().filter_map(|o| o.source_message_pk).collect();
    let sent_at: HashMap<i64, i64> = admin_lists::message_times(db, &pks)
        .await?
        .into_iter()
        .filter_map(|(pk, at)| at.map(|at| (pk, at)))
        .collect();
    let view = ChatDetail {
        chat: &chat,
        messages: &messages,
        offers: &offers,
        offer_sent_at: &sent_at,
        vendors: &vendors,
        notice,
        error,
        form,
        zone: state.console.time_zone,
        now_ms: now_ms(),
    };
    Ok(layout::respond(status, admin_views::chat_detail(&view)))
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
    // A browser's form post gets its page back with the error and the form as filled in.
    let page = layout::wants_html(&request) && !content_type.starts_with("application/json");
    let values = FormValues {
        vendor_id: form.vendor_id.clone(),
        new_vendor_name: form.new_vendor_name.clone(),
        new_vendor_currency: form.new_vendor_currency.clone(),
    };
    let choice = match form.choice() {
        Ok(choice) => choice,
        Err(error) if page => {
            return detail_page(
                &state,
                &chat_id,
                StatusCode::BAD_REQUEST,
                None,
                Some(&error.to_string()),
                &values,
                None,
            )
            .await;
        }
        Err(error) => return Err(error),
    };
    let Some(vendor_id) = market::map_chat(&state.store.db, &chat_id, choice, now_ms()).await?
    else {
        if page
            && market::chat_summary(&state.store.db, &chat_id)
                .await?
                .is_some()
        {
            let message = "That vendor no longer exists; choose another or name a new one.";
            return detail_page(
                &state,
                &chat_id,
                StatusCode::NOT_FOUND,
                None,
                Some(message),
                &values,
                None,
            )
            .await;
        }
        return Err(ApiError::NotFound);
    };
    tracing::info!(vendor_id, "chat mapped to a vendor; re-extracting");
    // Senders with a vendor of their own keep it: only the others' messages are extracted again.
    let report = state.extraction.extract_scoped(&chat_id, Mode::Full, Scope::ChatDefault).await?;
    if wants_json(&request) || content_type.starts_with("application/json") {
        return Ok(HttpResponse::Ok().json(MappingAnswer { chat_id, vendor_id, report }));
    }
    let location = format!(
        "/admin/whatsapp/{}?mapped={vendor_id}",
        layout::urlencode(&chat_id)
    );
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish())
}
