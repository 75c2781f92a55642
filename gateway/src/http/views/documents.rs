//! The `/admin/documents` pages: an upload form (a plain multipart form posting to
//! `POST /documents`, which answers a browser with a redirect to the new document's page), the
//! list of imports filtered by vendor and status, and one document with its counts, its file, its
//! offers and every row that could not be read. maud escapes every value, file names included.

use std::collections::HashMap;

use chrono_tz::Tz;
use maud::{Markup, html};

use super::{
    format::when,
    layout::{filters, page, pager, select},
};
use crate::domain::{DocumentStatus, RowError};
use crate::store::documents::DocumentRecord;

pub const PATH: &str = "/admin/documents";

#[derive(Default)]
pub struct DocumentFilters {
    pub vendor: Option<i64>,
    pub status: Option<String>,
    pub paged: bool,
}

impl DocumentFilters {
    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("vendor", self.vendor.map(|v| v.to_string()).unwrap_or_default()),
            ("status", self.status.clone().unwrap_or_default()),
        ]
    }
}

pub struct DocumentsView<'a> {
    pub documents: &'a [DocumentRecord],
    /// Vendor id → name.
    pub vendors: &'a HashMap<i64, String>,
    pub filters: &'a DocumentFilters,
    pub next_cursor: Option<&'a str>,
    pub zone: Tz,
    pub now_ms: i64,
    /// A refused upload: why, and the vendor as it was typed.
    pub refused: Option<Refused<'a>>,
    /// An LLM is configured: the form offers `prefer_llm`.
    pub llm: bool,
}

/// Why the form's last upload was refused, shown above the form.
pub struct Refused<'a> {
    pub message: &'a str,
    pub vendor: Option<&'a str>,
}

fn counts(d: &DocumentRecord) -> String {
    let llm = if d.prefer_llm { format!(" · {} read by the LLM", d.llm_rows) } else { String::new() };
    format!(
        "{} new · {} updated · {} unchanged · {} removed · {} errors{llm}",
        d.created_count, d.updated_count, d.unchanged_count, d.removed_count, d.error_count
    )
}

fn vendor_name<'a>(vendors: &'a HashMap<i64, String>, id: i64) -> &'a str {
    vendors.get(&id).map_or("(unknown vendor)", String::as_str)
}

pub fn documents_page(view: &DocumentsView<'_>) -> Markup {
    let mut vendor_options: Vec<(String, String)> = view.vendors.iter().map(|(id, name)| (id.to_string(), name.clone())).collect();
    vendor_options.sort_by(|a, b| a.1.to_lowercase().cmp(&b.1.to_lowercase()));
    let statuses: Vec<(String, String)> =
        DocumentStatus::ALL.iter().map(|s| (s.as_str().to_owned(), s.as_str().to_owned())).collect();
    let f = view.filters;
    let vendor = f.vendor.map(|v| v.to_string());
    page(
        "Vendor documents",
        PATH,
        html! {
            h1 { "Vendor documents" }
            section.card aria-labelledby="upload-title" {
                h2 #upload-title { "Import a price list" }
                @if let Some(refused) = &view.refused {
                    p.error role="alert" { "Not imported: " (refused.message) }
                }
                form method="post" action="/documents" enctype="multipart/form-data" {
                    label { "File (.xlsx, .xls, .ods, .csv, .tsv, chat export, PDF or photo) "
                        input type="file" name="file" required; }
                    label { "Vendor (id or name; a new name creates the vendor) "
                        input type="text" name="vendor" required maxlength="200" list="vendor-names"
                            value=[view.refused.as_ref().and_then(|r| r.vendor)]; }
                    datalist #vendor-names { @for (_, name) in &vendor_options { option value=(name) {} } }
                    @if view.llm {
                        label.check { input type="checkbox" name="prefer_llm" value="true";
                            " Let the LLM read the rows the rules cannot (spreadsheets; every price it gives must be written in its row)" }
                    }
                    button type="submit" { "Upload and import" }
                }
                p.muted { "Start from the " a href="/documents/templates/vendor-price" { "price-list template (.xlsx)" } "." }
            }
            (filters(PATH, html! {
                (select("Vendor", "vendor", &vendor_options, vendor.as_deref()))
                (select("Status", "status", &statuses, f.status.as_deref()))
            }))
            @if view.documents.is_empty() {
                p.muted { "No documents match." }
            } @else {
                div.table-wrap {
                    table.cards {
                        thead { tr { th { "#" } th { "File" } th { "Vendor" } th { "Status" } th { "Rows" } th { "Received" } } }
                        tbody {
                            @for d in view.documents {
                                tr {
                                    td data-label="#" { a href={ (PATH) "/" (d.id) } { (d.id) } }
                                    td.wrap data-label="File" { a href={ (PATH) "/" (d.id) } { (d.file_name) } }
                                    td.wrap data-label="Vendor" { (vendor_name(view.vendors, d.vendor_id)) }
                                    td data-label="Status" { span class={ "status " (d.status) } { (d.status) } }
                                    td data-label="Rows" { (counts(d)) }
                                    td data-label="Received" { (when(view.zone, view.now_ms, Some(d.created_at_ms))) }
                                }
                            }
                        }
                    }
                }
            }
            (pager(PATH, &f.params(), view.next_cursor, view.documents.len(), f.paged))
        },
    )
}

pub struct DocumentView<'a> {
    pub document: &'a DocumentRecord,
    pub vendor: &'a str,
    pub errors: &'a [RowError],
    pub zone: Tz,
    pub now_ms: i64,
}

pub fn document_page(view: &DocumentView<'_>) -> Markup {
    let d = view.document;
    let title = format!("Document {} · {}", d.id, d.file_name);
    page(
        &title,
        PATH,
        html! {
            h1 { (title) }
            p { a href=(PATH) { "« All documents" } }
            dl.facts {
                dt { "Vendor" } dd { a href={ "/offers?vendor_id=" (d.vendor_id) } { (view.vendor) } }
                dt { "Status" } dd { span class={ "status " (d.status) } { (d.status) } @if let Some(reason) = &d.reason { " — " (reason) } }
                dt { "Processor" } dd { (d.processor) " · " (d.media_type) " · " (d.size_bytes) " bytes" }
                dt { "Rows" } dd { (counts(d)) }
                dt { "Received" } dd { (when(view.zone, view.now_ms, Some(d.created_at_ms))) }
                dt { "Finished" } dd { (when(view.zone, view.now_ms, d.finished_at_ms)) }
                dt { "sha256" } dd.wrap { code { (d.sha256) } }
            }
            p {
                @if d.storage_key.is_some() { a.button href={ "/documents/" (d.id) "/file" } { "Download the file" } " " }
                a.button href={ "/offers?document_id=" (d.id) } { "Its offers" }
            }
            h2 { "Rows that could not be read (" (view.errors.len()) ")" }
            @if view.errors.is_empty() {
                p.muted { "None." }
            } @else {
                div.table-wrap {
                    table {
                        thead { tr { th { "Sheet" } th { "Row" } th { "Why" } } }
                        tbody {
                            @for e in view.errors {
                                tr {
                                    td.wrap { (e.sheet.as_deref().unwrap_or("—")) }
                                    td { @if let Some(row) = e.row { (row) } @else { "whole sheet" } }
                                    td.wrap { (e.reason) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
