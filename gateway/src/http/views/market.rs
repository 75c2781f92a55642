//! The offers and vendors pages (`/offers`, `/vendors` asked for as HTML):
//! filters, text search and a page at a time, inside the console's layout.

use std::collections::HashMap;

use chrono_tz::Tz;
use maud::{Markup, html};

use super::{
    format::{price, when},
    layout::{filters, page, pager, search_box, select, urlencode},
};
use crate::{domain::Offer, store::market::Vendor};

/// The offers filters as asked for (kept in the form and the pager).
#[derive(Default)]
pub struct OfferFilters {
    pub q: Option<String>,
    pub vendor_id: Option<i64>,
    pub chat_id: Option<String>,
    pub since: Option<String>,
    pub paged: bool,
}

impl OfferFilters {
    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q", self.q.clone().unwrap_or_default()),
            (
                "vendor_id",
                self.vendor_id.map(|v| v.to_string()).unwrap_or_default(),
            ),
            ("chat_id", self.chat_id.clone().unwrap_or_default()),
            ("since", self.since.clone().unwrap_or_default()),
        ]
    }
}

pub struct OffersView<'a> {
    pub offers: &'a [Offer],
    pub vendors: &'a [Vendor],
    /// Chat titles by chat id.
    pub chat_titles: &'a HashMap<String, String>,
    /// WhatsApp times by message id.
    pub sent_at: &'a HashMap<i64, i64>,
    pub filters: &'a OfferFilters,
    pub next_cursor: Option<&'a str>,
    pub zone: Tz,
    pub now_ms: i64,
}

pub fn offers_page(view: &OffersView<'_>) -> Markup {
    let f = view.filters;
    let vendor_names: HashMap<i64, &str> = view
        .vendors
        .iter()
        .map(|v| (v.id, v.name.as_str()))
        .collect();
    let vendor_options: Vec<(String, String)> = view
        .vendors
        .iter()
        .map(|v| (v.id.to_string(), v.name.clone()))
        .collect();
    let vendor_selected = f.vendor_id.map(|v| v.to_string());
    page(
        "Offers",
        "/offers",
        html! {
            h1 { "Offers" }
            p.muted { "Offers extracted from chat messages, newest first. Times are when the message was sent on WhatsApp." }
            (filters("/offers", html! {
                (search_box("Title", f.q.as_deref()))
                (select("Vendor", "vendor_id", &vendor_options, vendor_selected.as_deref()))
                label { "Chat id" input type="text" name="chat_id" value=[f.chat_id.as_deref()] size="18"; }
                label { "Since" input type="date" name="since" value=[f.since.as_deref()]; }
            }))
            @if view.offers.is_empty() { p { "No offer matches." } }
            @else {
                div.table-wrap {
                    table.cards {
                        thead { tr { th { "Title" } th { "Price" } th { "Qty" } th { "Vendor" } th { "Chat" } th { "Sent" } th { "Message" } } }
                        tbody {
                            @for offer in view.offers {
                                tr {
                                    td.wrap data-label="Title" { (offer.title) @if let Some(c) = &offer.condition { " " span.badge { (c) } } }
                                    td.num data-label="Price" { (price(&offer.currency, offer.price.as_deref())) }
                                    td.num data-label="Qty" { (offer.quantity.map(|q| q.to_string()).unwrap_or_default()) }
                                    td data-label="Vendor" {
                                        @match offer.vendor_id.and_then(|id| vendor_names.get(&id)) {
                                            Some(name) => { (name) },
                                            None => { span.unmapped { "unmapped" } },
                                        }
                                    }
                                    @match (&offer.chat_id, offer.source_message_pk) {
                                        (Some(chat_id), Some(pk)) => {
                                            td.wrap data-label="Chat" {
                                                a href={ "/admin/whatsapp/" (urlencode(chat_id)) } {
                                                    (view.chat_titles.get(chat_id).map_or(chat_id.as_str(), String::as_str))
                                                }
                                            }
                                            td data-label="Sent" {
                                                (when(view.zone, view.now_ms, Some(view.sent_at.get(&pk).copied().unwrap_or(offer.message_received_at_ms))))
                                            }
                                            td data-label="Message" {
                                                a href={ "/admin/whatsapp/" (urlencode(chat_id)) "#m" (pk) } { "#" (pk) }
                                            }
                                        },
                                        _ => {
                                            td.wrap data-label="Chat" { "document " (offer.source_document_id.unwrap_or_default()) }
                                            td data-label="Sent" { (when(view.zone, view.now_ms, Some(offer.message_received_at_ms))) }
                                            td data-label="Message" { "row " (offer.source_row.unwrap_or_default()) }
                                        },
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (pager("/offers", &f.params(), view.next_cursor, view.offers.len(), f.paged))
        },
    )
}

pub struct VendorsView<'a> {
    pub vendors: &'a [Vendor],
    pub q: Option<&'a str>,
    pub next_cursor: Option<&'a str>,
    pub paged: bool,
    pub zone: Tz,
    pub now_ms: i64,
}

pub fn vendors_page(view: &VendorsView<'_>) -> Markup {
    let params = [("q", view.q.unwrap_or_default().to_owned())];
    page(
        "Vendors",
        "/vendors",
        html! {
            h1 { "Vendors" }
            p.muted { "Vendors are created from a chat's page, when the chat is mapped." }
            (filters("/vendors", search_box("Name", view.q)))
            @if view.vendors.is_empty() { p { "No vendor matches." } }
            @else {
                div.table-wrap {
                    table.cards {
                        thead { tr { th { "Vendor" } th { "Currency" } th { "Chats" } th { "Offers" } th { "Created" } } }
                        tbody {
                            @for vendor in view.vendors {
                                tr {
                                    td.wrap data-label="Vendor" { strong { (vendor.name) } }
                                    td data-label="Currency" { (vendor.default_currency.as_deref().unwrap_or("—")) }
                                    td.num data-label="Chats" { a href={ "/admin/whatsapp?vendor_id=" (vendor.id) } { (vendor.chat_count) } }
                                    td.num data-label="Offers" { a href={ "/offers?vendor_id=" (vendor.id) } { (vendor.offer_count) } }
                                    td data-label="Created" { (when(view.zone, view.now_ms, Some(vendor.created_at_ms))) }
                                }
                            }
                        }
                    }
                }
            }
            (pager("/vendors", &params, view.next_cursor, view.vendors.len(), view.paged))
        },
    )
}
