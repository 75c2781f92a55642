//! An offer as extraction stored it: one priced (or priceless) item of one
//! message, attributed to the chat's vendor. The store reads these rows; the
//! read API and the admin pages show them.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Offer {
    pub id: i64,
    pub chat_id: String,
    pub vendor_id: Option<i64>,
    #[serde(rename = "source_message_id")]
    pub source_message_pk: i64,
    pub item_index: i32,
    pub title: String,
    pub product_key: String,
    pub wa_product_id: Option<String>,
    /// Exact decimal as a string, or null when the message gave no price.
    pub price: Option<String>,
    pub currency: String,
    /// Delivery, shipping, transport or packaging fee the message states for
    /// the item: exact decimal as a string, or null when it states none.
    pub delivery_fee: Option<String>,
    pub quantity: Option<i32>,
    pub condition: Option<String>,
    pub span_start: i32,
    pub span_end: i32,
    pub source_text: String,
    pub message_received_at_ms: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}
