//! Vendors per sender in group chats (issue 19): `GET
//! /admin/whatsapp/{chat_id}/senders` lists a chat's phone senders with their
//! message and offer counts and their own vendor, and `POST` maps them in one
//! form. A sender's own vendor wins over the chat's default; a changed
//! mapping re-attributes that sender's offers in the mapping's transaction,
//! then re-extracts only that sender's messages (their vendor's currency).
//! HTML by default, JSON with `Accept: application/json`.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::{
    admin::wants_json,
    admin_views::{page, urlencode},
    auth,
    errors::ApiError,
    openapi::AdminErrors,
};
use crate::{
    app::AppState,
    extraction::{ExtractionReport, Mode, attribution::Scope},
    parse::phone::normalize_phone,
    store::{
        market::{self, ChatSummary, Vendor},
        sender_vendors::{self, ChatSender, MappingRefusal},
    },
    time::now_ms,
};

/// Most senders listed (and mapped in one form).
const MAX_SENDERS: usize = 500;
/// Form fields that map a sender are named `vendor:<E.164 sender>`.
const FIELD_PREFIX: &str = "vendor:";

#[derive(Serialize, utoipa::ToSchema)]
pub struct SenderList {
    pub chat: ChatSummary,
    /// Phone senders, most messages first (at most 500).
    pub senders: Vec<ChatSender>,
    /// Every vendor, to map senders to.
    pub vendors: Vec<Vendor>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SendersQuery {
    /// Set after a form was saved: how many senders' mappings changed.
    saved: Option<u32>,
}

#[utoipa::path(
    get, path = "/admin/whatsapp/{chat_id}/senders", tag = "admin", summary = "A chat's senders, their offer counts and own vendors, and the mapping form",
    params(("chat_id" = String, Path, description = "The chat id as stored", example = "120363000000000001@g.us"), SendersQuery),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "The senders", content((SenderList = "application/json"), (String = "text/html"))),
        AdminErrors,
    ),
)]
pub async fn list(
    request: HttpRequest,
    path: web::Path<String>,
    query: web::Query<SendersQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let chat_id = path.into_inner();
    let db = &state.store.db;
    let chat = market::chat_summary(db, &chat_id).await?.ok_or(ApiError::NotFound)?;
    let senders = sender_vendors::chat_senders(db, &chat_id, MAX_SENDERS).await?;
    let vendors = market::vendors(db).await?;
    if wants_json(&request) {
        return Ok(HttpResponse::Ok().json(SenderList { chat, senders, vendors }));
    }
    let markup = senders_page(&chat, &senders, &vendors, query.saved);
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(markup.into_string()))
}

/// One sender's mapping: an E.164 number or a WhatsApp JID, and a vendor id
/// (null: the chat's default vendor applies again).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SenderMapping {
    #[schema(example = "+254712345678")]
    pub sender: String,
    pub vendor_id: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SenderMappingRequest {
    pub senders: Vec<SenderMapping>,
}

/// The form as a browser posts it: a field `vendor:<sender>` per sender whose
/// value is a vendor id, or empty for the chat's default.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SenderMappingForm(BTreeMap<String, String>);

#[derive(Serialize, utoipa::ToSchema)]
pub struct SenderMappingAnswer {
    pub chat_id: String,
    /// Senders whose mapping changed (the others were already as asked).
    pub changed: Vec<String>,
    /// The re-extraction of the changed senders' messages; null when nothing changed.
    pub report: Option<ExtractionReport>,
}

#[utoipa::path(
    post, path = "/admin/whatsapp/{chat_id}/senders", tag = "admin", summary = "Map senders of a chat to vendors and re-attribute their offers",
    params(("chat_id" = String, Path, description = "The chat id as stored", example = "120363000000000001@g.us")),
    request_body(content(
        (SenderMappingRequest = "application/json"), (SenderMappingForm = "application/x-www-form-urlencoded"),
    )),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Mapped (JSON requests)", body = SenderMappingAnswer),
        (status = 303, description = "Mapped (form posts): back to the senders page"),
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
    let is_json = content_type.starts_with("application/json");
    let raw: Vec<(String, Option<String>)> = if is_json {
        let parsed: SenderMappingRequest = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        parsed.senders.into_iter().map(|m| (m.sender, m.vendor_id.map(|v| v.to_string()))).collect()
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        fields.into_iter().filter_map(|(name, value)| name.strip_prefix(FIELD_PREFIX).map(|s| (s.to_owned(), Some(value)))).collect()
    } else {
        return Err(ApiError::UnsupportedMediaType);
    };
    let mappings = parse_mappings(raw, &state)?;
    let changed = match sender_vendors::set_mappings(&state.store.db, &chat_id, &mappings, now_ms()).await? {
        Ok(changed) => changed,
        Err(MappingRefusal::UnknownChat | MappingRefusal::UnknownVendor) => return Err(ApiError::NotFound),
    };
    tracing::info!(changed = changed.len(), "sender mappings saved; re-extracting their messages");
    let report = if changed.is_empty() {
        None
    } else {
        Some(state.extraction.extract_scoped(&chat_id, Mode::Full, Scope::Senders(changed.clone())).await?)
    };
    if wants_json(&request) || is_json {
        return Ok(HttpResponse::Ok().json(SenderMappingAnswer { chat_id, changed, report }));
    }
    let location = format!("/admin/whatsapp/{}/senders?saved={}", urlencode(&chat_id), changed.len());
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish())
}

/// Normalises each sender to E.164 and each vendor to an id (empty: none).
fn parse_mappings(raw: Vec<(String, Option<String>)>, state: &AppState) -> Result<Vec<(String, Option<i64>)>, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::BadRequest("no sender to map".into()));
    }
    if raw.len() > MAX_SENDERS {
        return Err(ApiError::BadRequest(format!("at most {MAX_SENDERS} senders per request")));
    }
    let mut seen = BTreeMap::new();
    for (sender, vendor) in raw {
        let sender = normalize_phone(&sender, state.extraction.config.region)
            .ok_or_else(|| ApiError::BadRequest("each sender must be a phone number in E.164 or a WhatsApp JID".into()))?;
        let vendor = match vendor.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(id) => Some(id.parse::<i64>().map_err(|_| ApiError::BadRequest("vendor ids must be numbers".into()))?),
            None => None,
        };
        seen.insert(sender, vendor);
    }
    Ok(seen.into_iter().collect())
}

fn senders_page(chat: &ChatSummary, senders: &[ChatSender], vendors: &[Vendor], saved: Option<u32>) -> Markup {
    let chat_href = format!("/admin/whatsapp/{}", urlencode(&chat.chat_id));
    let default_vendor = chat.vendor_name.clone().unwrap_or_else(|| "no vendor".into());
    page(&format!("Senders · {}", chat.title), html! {
        p.wrap { a href=(chat_href) { "← " (chat.title) } }
        h1.wrap { "Senders of " (chat.title) }
        p.muted.wrap { "A sender's own vendor wins over the chat's (" (default_vendor) "). Saving re-attributes only the changed senders' offers." }
        @if let Some(saved) = saved { p.note { "Saved: " (saved) " sender mapping(s) changed; their offers were re-extracted." } }
        @if senders.is_empty() {
            p { "No sender with a phone number has posted in this chat yet." }
        } @else {
            form method="post" action={ (chat_href) "/senders" } {
                div.table-wrap {
                    table.cards {
                        thead { tr { th { "Sender" } th { "Messages" } th { "Offers" } th { "Vendor" } } }
                        tbody {
                            @for sender in senders {
                                tr {
                                    td.wrap data-label="Sender" { (sender.sender) @if let Some(name) = &sender.sender_name { br; span.muted { (name) } } }
                                    td.num data-label="Messages" { (sender.message_count) }
                                    td.num data-label="Offers" { a href={ "/offers?chat_id=" (urlencode(&chat.chat_id)) "&sender=" (urlencode(&sender.sender)) } { (sender.offer_count) } }
                                    td data-label="Vendor" {
                                        select name={ (FIELD_PREFIX) (sender.sender) } aria-label={ "Vendor of " (sender.sender) } {
                                            option value="" selected[sender.vendor_id.is_none()] { "chat default (" (default_vendor) ")" }
                                            @for vendor in vendors {
                                                option value=(vendor.id) selected[sender.vendor_id == Some(vendor.id)] { (vendor.name) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                button type="submit" { "Save sender vendors" }
            }
        }
    })
}
