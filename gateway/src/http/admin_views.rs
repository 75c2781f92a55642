//! Server-rendered admin pages of one chat (no JavaScript needed), inside the
//! console's shared layout (`views::layout`). maud escapes every interpolated
//! value, so chat titles and message text cannot inject markup.

use std::collections::HashMap;

use chrono_tz::Tz;
use maud::{Markup, html};

use super::views::{
    format::{price, when},
    layout,
};
use crate::domain::Offer;
use crate::store::market::{ChatSummary, MessageView, Vendor};

/// `GET /admin/assets/admin.css`: the admin pages' stylesheet (public, cacheable).
#[utoipa::path(
    get, path = "/admin/assets/admin.css", tag = "admin", summary = "The admin pages' stylesheet",
    responses((status = 200, description = "CSS", content_type = "text/css", body = String)),
)]
pub async fn stylesheet() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=3600",
        ))
        .body(layout::STYLE)
}

/// A page in the console's layout, with no section highlighted.
pub fn page(title: &str, body: Markup) -> Markup {
    layout::page(title, "", body)
}

/// The mapping form as the operator filled it in (kept when it comes back with an error).
#[derive(Debug, Default, Clone)]
pub struct FormValues {
    pub vendor_id: Option<String>,
    pub new_vendor_name: Option<String>,
    pub new_vendor_currency: Option<String>,
}

pub struct ChatDetail<'a> {
    pub chat: &'a ChatSummary,
    pub messages: &'a [MessageView],
    pub offers: &'a [Offer],
    /// WhatsApp times of the offers' messages, by message id.
    pub offer_sent_at: &'a HashMap<i64, i64>,
    pub vendors: &'a [Vendor],
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    pub form: &'a FormValues,
    pub zone: Tz,
    pub now_ms: i64,
}

pub fn chat_detail(view: &ChatDetail<'_>) -> Markup {
    let chat = view.chat;
    let chosen = view
        .form
        .vendor_id
        .as_deref()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(chat.vendor_id);
    layout::page(
        &chat.title,
        "/admin/whatsapp",
        html! {
            p { a href="/admin/whatsapp" { "← all chats" } }
            h1.wrap { (chat.title) }
            p.muted.wrap { (chat.chat_id) " · " (chat.message_count) " messages · " (chat.offer_count) " offers" }
            @if let Some(notice) = view.notice { p.note role="status" { (notice) } }
            h2 { "Vendor" }
            p {
                @match &chat.vendor_name {
                    Some(name) => { "Mapped to " strong { (name) } "." },
                    None => { span.unmapped { "Not mapped to a vendor yet." } },
                }
            }
            @if let Some(error) = view.error { p.error role="alert" id="mapping-error" { (error) } }
            form method="post" action={ "/admin/whatsapp/" (layout::urlencode(&chat.chat_id)) } {
                fieldset {
                    legend { "Map to an existing vendor" }
                    label {
                        "Vendor "
                        select name="vendor_id" {
                            option value="" { "— choose —" }
                            @for vendor in view.vendors {
                                option value=(vendor.id) selected[chosen == Some(vendor.id)] { (vendor.name) }
                            }
                        }
                    }
                }
                fieldset {
                    legend { "…or create a vendor" }
                    label { "Name " input type="text" name="new_vendor_name" maxlength="200" value=[view.form.new_vendor_name.as_deref()]; }
                    label { "Default currency " input type="text" name="new_vendor_currency" maxlength="3" placeholder="KES" size="4" value=[view.form.new_vendor_currency.as_deref()]; }
                }
                button type="submit" { "Save mapping and re-extract" }
            }
            p { a href={ "/admin/whatsapp/" (layout::urlencode(&chat.chat_id)) "/senders" } { "Senders and their own vendors →" } }
            h2 { "Latest offers" }
            div.table-wrap {
                table.cards {
                    thead { tr { th { "Title" } th { "Price" } th { "Qty" } th { "Condition" } th { "Sender" } th { "Sent" } th { "Message" } } }
                    tbody {
                        @for offer in view.offers {
                            tr {
                                td.wrap data-label="Title" { (offer.title) }
                                td.num data-label="Price" { (price(&offer.currency, offer.price.as_deref())) }
                                td.num data-label="Qty" { (offer.quantity.map(|q| q.to_string()).unwrap_or_default()) }
                                td data-label="Condition" { (offer.condition.clone().unwrap_or_default()) }
                                td.wrap data-label="Sender" { (offer.sender.clone().unwrap_or_default()) }
                                td data-label="Sent" {
                                    (when(view.zone, view.now_ms, Some(offer.source_message_pk.and_then(|pk| view.offer_sent_at.get(&pk).copied()).unwrap_or(offer.message_received_at_ms))))
                                }
                                td data-label="Message" {
                                    @if let Some(pk) = offer.source_message_pk { a href=(message_link(&chat.chat_id, pk)) { "#" (pk) } }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Latest messages" }
            div.table-wrap {
                table.cards {
                    thead { tr { th { "#" } th { "Sender" } th { "Text" } th { "Sent (WhatsApp)" } } }
                    tbody {
                        @for message in view.messages {
                            tr id={ "m" (message.id) } {
                                td data-label="#" { (message.id) }
                                td.wrap data-label="Sender" { (message.sender_name.clone().or_else(|| message.sender.clone()).unwrap_or_default()) }
                                td.text data-label="Text" { (message.text.clone().unwrap_or_default()) }
                                td data-label="Sent (WhatsApp)" {
                                    (when(view.zone, view.now_ms, Some(message.upstream_ts_ms.unwrap_or(message.received_at_ms))))
                                    @if message.upstream_ts_ms.is_none() { " " span.muted { "(received)" } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The chat page showing one of its messages (an offer's source).
pub fn message_link(chat_id: &str, message_pk: i64) -> String {
    format!("/admin/whatsapp/{}?message={message_pk}#m{message_pk}", urlencode(chat_id))
}

/// Percent-encodes a path segment (chat ids hold `@` and `.`).
pub fn urlencode(segment: &str) -> String {
    layout::urlencode(segment)
}
