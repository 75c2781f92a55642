//! An offer as extraction stored it: one priced (or priceless) item of one
//! message, attributed to its sender's vendor, else the chat's vendor. The store reads these rows; the
//! read API and the admin pages show them.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Offer {
    pub id: i64,
    /// The chat of the offer's message; null for an offer from a vendor document.
    pub chat_id: Option<String>,
    pub vendor_id: Option<i64>,
    /// The E.164 sender of the offer's message, or null when the sender is
    /// not a phone. Read tokens see it masked to its last three digits.
    #[schema(example = "+•••••••••678")]
    pub sender: Option<String>,
    /// The offer's message; null for an offer from a vendor document.
    #[serde(rename = "source_message_id")]
    pub source_message_pk: Option<i64>,
    /// The vendor document the offer was read from (`GET /documents/{id}`), or null.
    pub source_document_id: Option<i64>,
    /// The offer's 1-based row in that document's sheet, or null.
    pub source_row: Option<i32>,
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

impl Offer {
    /// Masks the sender to its last three digits (what read tokens see).
    pub fn mask_sender(&mut self) {
        if let Some(sender) = self.sender.as_mut() {
            *sender = mask_e164(sender);
        }
    }
}

/// `+254712345678` → `+•••••••••678`: every digit but the last three hidden.
pub fn mask_e164(phone: &str) -> String {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    phone
        .chars()
        .map(|ch| {
            if ch.is_ascii_digit() {
                seen += 1;
                if seen + 3 > digits { ch } else { '•' }
            } else {
                ch
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::mask_e164;

    #[test]
    fn masks_all_but_the_last_three_digits() {
        assert_eq!(mask_e164("+254712345678"), "+•••••••••678");
        assert_eq!(mask_e164("+123"), "+123");
    }
}
