//! The diagnostics page (`/chat/tools/diagnostics` asked for as HTML): the
//! ingest and extraction summary as cards, the downloads, and the event log
//! filtered by kind and text, a page at a time. Phone numbers are masked as
//! in the log download.

use chrono_tz::Tz;
use maud::{Markup, html};

use super::{
    format::when,
    layout::{filters, page, pager, search_box, select, urlencode},
};
use crate::http::diagnostics::DiagnosticsSummary;
use crate::parse::privacy::mask_phones;
use crate::store::events::Event;

#[derive(Default)]
pub struct EventFilters {
    pub kind: Option<String>,
    pub q: Option<String>,
    pub paged: bool,
}

pub struct DiagnosticsView<'a> {
    pub summary: &'a DiagnosticsSummary,
    pub events: &'a [Event],
    pub kinds: &'a [String],
    pub filters: &'a EventFilters,
    pub next_cursor: Option<&'a str>,
    pub zone: Tz,
    pub now_ms: i64,
    /// Last extraction time (ms), for the relative display.
    pub last_extraction_ms: Option<i64>,
}

pub fn diagnostics_page(view: &DiagnosticsView<'_>) -> Markup {
    let s = view.summary;
    let f = view.filters;
    let kinds: Vec<(String, String)> = view.kinds.iter().map(|k| (k.clone(), k.clone())).collect();
    let params = [
        ("kind", f.kind.clone().unwrap_or_default()),
        ("q", f.q.clone().unwrap_or_default()),
    ];
    page(
        "Diagnostics",
        "/chat/tools/diagnostics",
        html! {
            h1 { "Diagnostics" }
            div.cards-summary {
                div { strong { (s.accepted) } "accepted" }
                div { strong { (s.created) } "created" }
                div { strong { (s.deduped) } "duplicates" }
                div { strong { (s.extracted) } "extracted" }
                div { strong { (s.errors) } "errors" }
                div { strong { (s.chats_pending_extraction) } "chats pending extraction" }
                div {
                    strong { @match s.oldest_pending_age_seconds { Some(age) => { (format!("{age:.1} s")) }, None => { "—" } } }
                    "oldest pending"
                }
                div { strong { (when(view.zone, view.now_ms, view.last_extraction_ms)) } "last extraction" }
            }
            p {
                "Downloads: "
                a href="/chat/tools/diagnostics?format=csv" { "per-chat counters (CSV)" } " · "
                a href="/chat/tools/diagnostics/logs" { "event log (JSON lines)" } " · "
                a href="/metrics/whatsapp" { "WhatsApp metrics" }
            }
            h2 { "Events" }
            (filters("/chat/tools/diagnostics", html! {
                (select("Kind", "kind", &kinds, f.kind.as_deref()))
                (search_box("Chat or detail", f.q.as_deref()))
            }))
            @if view.events.is_empty() { p { "No event matches." } }
            @else {
                div.table-wrap {
                    table.cards {
                        thead { tr { th { "When" } th { "Kind" } th { "Chat" } th { "Detail" } } }
                        tbody {
                            @for event in view.events {
                                tr {
                                    td data-label="When" { (when(view.zone, view.now_ms, Some(event.at_ms))) }
                                    td data-label="Kind" { span.badge { (event.kind) } }
                                    td.wrap data-label="Chat" {
                                        @if let Some(chat) = &event.chat_id {
                                            @let masked = mask_phones(chat);
                                            @if masked == *chat { a href={ "/admin/whatsapp/" (urlencode(chat)) } { (chat) } }
                                            @else { (masked) }
                                        }
                                    }
                                    td.text data-label="Detail" { (mask_phones(&event.detail)) }
                                }
                            }
                        }
                    }
                }
            }
            (pager("/chat/tools/diagnostics", &params, view.next_cursor, view.events.len(), f.paged))
        },
    )
}
