//! The chat list page (`/admin/whatsapp`): search by title or id, filter by
//! mapping state or vendor, one page at a time.

use chrono_tz::Tz;
use maud::{Markup, html};

use super::{
    format::when,
    layout::{filters, page, pager, search_box, select, urlencode},
};
use crate::store::market::{ChatSummary, Vendor};

/// The filters as the page was asked for them (kept in the form and the pager).
#[derive(Default)]
pub struct ChatFilters {
    pub q: Option<String>,
    pub mapped: Option<String>,
    pub vendor_id: Option<i64>,
    pub paged: bool,
}

impl ChatFilters {
    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q", self.q.clone().unwrap_or_default()),
            ("mapped", self.mapped.clone().unwrap_or_default()),
            (
                "vendor_id",
                self.vendor_id.map(|v| v.to_string()).unwrap_or_default(),
            ),
        ]
    }
}

pub struct ChatListView<'a> {
    pub chats: &'a [ChatSummary],
    pub vendors: &'a [Vendor],
    pub filters: &'a ChatFilters,
    pub next_cursor: Option<&'a str>,
    pub zone: Tz,
    pub now_ms: i64,
}

pub fn chat_list(view: &ChatListView<'_>) -> Markup {
    let f = view.filters;
    let mapped_options = [
        ("no".to_owned(), "unmapped".to_owned()),
        ("yes".to_owned(), "mapped".to_owned()),
    ];
    let vendor_options: Vec<(String, String)> = view
        .vendors
        .iter()
        .map(|v| (v.id.to_string(), v.name.clone()))
        .collect();
    let vendor_selected = f.vendor_id.map(|v| v.to_string());
    page(
        "WhatsApp chats",
        "/admin/whatsapp",
        html! {
            h1 { "WhatsApp chats" }
            p.muted { "Unmapped chats come first. Map a chat to a vendor so its offers are attributed." }
            (filters("/admin/whatsapp", html! {
                (search_box("Title or chat id", f.q.as_deref()))
                (select("Mapping", "mapped", &mapped_options, f.mapped.as_deref()))
                (select("Vendor", "vendor_id", &vendor_options, vendor_selected.as_deref()))
            }))
            @if view.chats.is_empty() {
                p { @if f.q.is_some() || f.mapped.is_some() || f.vendor_id.is_some() { "No chat matches these filters." } @else { "No chat has posted yet." } }
            } @else {
                div.table-wrap {
                    table.cards {
                        thead { tr { th { "Chat" } th { "Vendor" } th { "Messages" } th { "Offers" } th { "Last message" } th { "Extraction" } } }
                        tbody {
                            @for chat in view.chats {
                                tr {
                                    td.wrap data-label="Chat" {
                                        a href={ "/admin/whatsapp/" (urlencode(&chat.chat_id)) } { (chat.title) }
                                        br; span.muted { (chat.chat_id) }
                                    }
                                    td data-label="Vendor" {
                                        @match &chat.vendor_name {
                                            Some(name) => { (name) },
                                            None => { span.unmapped { "unmapped" } },
                                        }
                                    }
                                    td.num data-label="Messages" { (chat.message_count) }
                                    td.num data-label="Offers" { (chat.offer_count) }
                                    td data-label="Last message" { (when(view.zone, view.now_ms, Some(chat.last_message_at_ms))) }
                                    td data-label="Extraction" { @if chat.extract_due_at_ms.is_some() { "pending" } @else { "up to date" } }
                                }
                            }
                        }
                    }
                }
            }
            (pager("/admin/whatsapp", &f.params(), view.next_cursor, view.chats.len(), f.paged))
        },
    )
}
