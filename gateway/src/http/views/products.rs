//! The products page (`/products` asked for as HTML): thumbnails, QC state,
//! filters by seller, activity and QC decision, text search, a page at a time.

use chrono_tz::Tz;
use maud::{Markup, html};

use super::{
    format::when,
    layout::{filters, page, pager, search_box, select},
};
use crate::http::products::ProductView;

#[derive(Default)]
pub struct ProductFilters {
    pub q: Option<String>,
    pub seller: Option<String>,
    pub active: Option<String>,
    pub qc: Option<String>,
    pub paged: bool,
}

impl ProductFilters {
    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q", self.q.clone().unwrap_or_default()),
            ("seller", self.seller.clone().unwrap_or_default()),
            ("active", self.active.clone().unwrap_or_default()),
            ("qc", self.qc.clone().unwrap_or_default()),
        ]
    }
}

pub struct ProductsView<'a> {
    pub products: &'a [ProductView],
    /// When each was last hydrated (ms), in the same order.
    pub hydrated_ms: &'a [Option<i64>],
    pub filters: &'a ProductFilters,
    pub next_cursor: Option<&'a str>,
    pub zone: Tz,
    pub now_ms: i64,
}

fn pairs(values: &[&str]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| ((*v).to_owned(), (*v).to_owned()))
        .collect()
}

pub fn products_page(view: &ProductsView<'_>) -> Markup {
    let f = view.filters;
    page(
        "Products",
        "/products",
        html! {
            h1 { "Products" }
            p.muted { "Catalog products found in chats, hydrated from their WhatsApp pages, then checked by QC." }
            (filters("/products", html! {
                (search_box("Name or description", f.q.as_deref()))
                label { "Seller" input type="text" name="seller" value=[f.seller.as_deref()] size="14" placeholder="+2547…"; }
                (select("Active", "active", &pairs(&["true", "false"]), f.active.as_deref()))
                (select("QC", "qc", &pairs(&["approved", "flagged", "rejected"]), f.qc.as_deref()))
            }))
            @if view.products.is_empty() { p { "No product matches." } }
            @else {
                div.table-wrap {
                    table.cards {
                        thead { tr { th { "" } th { "Product" } th { "Seller" } th { "QC" } th { "Active" } th { "Hydrated" } } }
                        tbody {
                            @for (product, hydrated) in view.products.iter().zip(view.hydrated_ms) {
                                tr {
                                    td {
                                        @match &product.display_image_url {
                                            Some(url) => { a href=(url) { img.thumb src=(url) alt={ "Photo of " (product.name.as_deref().unwrap_or("the product")) } loading="lazy"; } },
                                            None => { span.muted { "no image" } },
                                        }
                                    }
                                    td.wrap data-label="Product" {
                                        strong { (product.name.as_deref().unwrap_or("(not hydrated yet)")) }
                                        br; span.muted { (product.product_id) }
                                    }
                                    td.wrap data-label="Seller" { (product.seller_phone.as_deref().unwrap_or("—")) }
                                    td data-label="QC" {
                                        @match &product.qc.decision {
                                            Some(decision) => {
                                                span class={ "badge " (decision) } { (decision) }
                                                @if let Some(c) = product.qc.confidence { " " span.muted { (format!("{:.0}%", c * 100.0)) } }
                                                @if let Some(reason) = &product.qc.reason { br; span.muted.wrap { (reason) } }
                                            },
                                            None => { span.muted { "pending" } },
                                        }
                                    }
                                    td data-label="Active" { @if product.active { "yes" } @else { "no" } }
                                    td data-label="Hydrated" {
                                        (when(view.zone, view.now_ms, *hydrated))
                                        @if let Some(status) = &product.hydrate_status { " " span.badge { (status) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (pager("/products", &f.params(), view.next_cursor, view.products.len(), f.paged))
        },
    )
}
