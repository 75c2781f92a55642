//! Server-rendered admin pages (no JavaScript needed). maud escapes every
//! interpolated value, so chat titles and message text cannot inject markup.

use maud::{DOCTYPE, Markup, html};

use super::ops::rfc3339;
use crate::domain::Offer;
use crate::store::market::{ChatSummary, MessageView, Vendor};

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d232a}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #dde2e7;vertical-align:top}
th{background:#f3f5f7}.unmapped{color:#a5370f;font-weight:600}.muted{color:#6a737d}.note{background:#e8f5e9;padding:.6rem 1rem;border-radius:6px}
form fieldset{border:1px solid #dde2e7;border-radius:6px;margin:.8rem 0;padding:.8rem}label{display:block;margin:.3rem 0}
input,select,button{font:inherit;padding:.3rem .5rem}button{background:#1f6feb;color:#fff;border:0;border-radius:6px;padding:.45rem 1rem}
td.text{white-space:pre-wrap;max-width:36rem}";

/// `GET /admin/assets/admin.css`: the admin pages' stylesheet (public, cacheable).
#[utoipa::path(
    get, path = "/admin/assets/admin.css", tag = "admin", summary = "The admin pages' stylesheet",
    responses((status = 200, description = "CSS", content_type = "text/css", body = String)),
)]
pub async fn stylesheet() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLE)
}

pub fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Soko admin" }
                // A same-origin stylesheet: the pages' CSP (default-src 'self') allows no inline style.
                link rel="stylesheet" href="/admin/assets/admin.css";
            }
            body { (body) }
        }
    }
}

fn time(ms: Option<i64>) -> String {
    ms.map(rfc3339).unwrap_or_else(|| "—".into())
}

pub fn chat_list(chats: &[ChatSummary]) -> Markup {
    page("WhatsApp chats", html! {
        h1 { "WhatsApp chats" }
        p.muted { "Unmapped chats come first. Map a chat to a vendor so its offers are attributed." }
        table {
            thead { tr { th { "Chat" } th { "Vendor" } th { "Messages" } th { "Offers" } th { "Last message" } th { "Extraction" } } }
            tbody {
                @for chat in chats {
                    tr {
                        td { a href={ "/admin/whatsapp/" (urlencode(&chat.chat_id)) } { (chat.title) } br; span.muted { (chat.chat_id) } }
                        td {
                            @match &chat.vendor_name {
                                Some(name) => { (name) },
                                None => { span.unmapped { "unmapped" } },
                            }
                        }
                        td { (chat.message_count) }
                        td { (chat.offer_count) }
                        td { (time(Some(chat.last_message_at_ms))) }
                        td { @if chat.extract_due_at_ms.is_some() { "pending" } @else { "up to date" } }
                    }
                }
            }
        }
        @if chats.is_empty() { p { "No chat has posted yet." } }
    })
}

pub struct ChatDetail<'a> {
    pub chat: &'a ChatSummary,
    pub messages: &'a [MessageView],
    pub offers: &'a [Offer],
    pub vendors: &'a [Vendor],
    pub notice: Option<&'a str>,
}

pub fn chat_detail(view: &ChatDetail<'_>) -> Markup {
    let chat = view.chat;
    page(&chat.title, html! {
        p { a href="/admin/whatsapp" { "← all chats" } }
        h1 { (chat.title) }
        p.muted { (chat.chat_id) " · " (chat.message_count) " messages · " (chat.offer_count) " offers" }
        @if let Some(notice) = view.notice { p.note { (notice) } }
        h2 { "Vendor" }
        p {
            @match &chat.vendor_name {
                Some(name) => { "Mapped to " strong { (name) } "." },
                None => { span.unmapped { "Not mapped to a vendor yet." } },
            }
        }
        form method="post" action={ "/admin/whatsapp/" (urlencode(&chat.chat_id)) } {
            fieldset {
                legend { "Map to an existing vendor" }
                label {
                    "Vendor "
                    select name="vendor_id" {
                        option value="" { "— choose —" }
                        @for vendor in view.vendors {
                            option value=(vendor.id) selected[chat.vendor_id == Some(vendor.id)] { (vendor.name) }
                        }
                    }
                }
            }
            fieldset {
                legend { "…or create a vendor" }
                label { "Name " input type="text" name="new_vendor_name" maxlength="200"; }
                label { "Default currency " input type="text" name="new_vendor_currency" maxlength="3" placeholder="KES" size="4"; }
            }
            button type="submit" { "Save mapping and re-extract" }
        }
        p { a href={ "/admin/whatsapp/" (urlencode(&chat.chat_id)) "/senders" } { "Senders and their own vendors →" } }
        h2 { "Latest offers" }
        table {
            thead { tr { th { "Title" } th { "Price" } th { "Qty" } th { "Condition" } th { "Sender" } th { "Message" } } }
            tbody {
                @for offer in view.offers {
                    tr {
                        td { (offer.title) }
                        td { @if let Some(price) = &offer.price { (offer.currency) " " (price) } @else { span.muted { "no price" } } }
                        td { (offer.quantity.map(|q| q.to_string()).unwrap_or_default()) }
                        td { (offer.condition.clone().unwrap_or_default()) }
                        td { (offer.sender.clone().unwrap_or_default()) }
                        td { a href=(message_link(&chat.chat_id, offer.source_message_pk)) { "#" (offer.source_message_pk) } }
                    }
                }
            }
        }
        h2 { "Latest messages" }
        table {
            thead { tr { th { "#" } th { "Sender" } th { "Text" } th { "Received" } } }
            tbody {
                @for message in view.messages {
                    tr id={ "m" (message.id) } {
                        td { (message.id) }
                        td { (message.sender_name.clone().or_else(|| message.sender.clone()).unwrap_or_default()) }
                        td.text { (message.text.clone().unwrap_or_default()) }
                        td { (time(Some(message.received_at_ms))) }
                    }
                }
            }
        }
    })
}

/// The chat page showing one of its messages (an offer's source).
pub fn message_link(chat_id: &str, message_pk: i64) -> String {
    format!("/admin/whatsapp/{}?message={message_pk}#m{message_pk}", urlencode(chat_id))
}

/// Percent-encodes a path segment (chat ids hold `@` and `.`).
pub fn urlencode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
