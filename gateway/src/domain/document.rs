//! A vendor document (a price list sent as a spreadsheet) and what a processor reads out of it:
//! one [`DocumentRow`] per priced line, one [`RowError`] per line it could not read. The store
//! keeps the document as a `source_documents` row and its lines as offers; the diff compares
//! their [`row_key`](DocumentRow::row_key) and [`row_hash`](DocumentRow::row_hash).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where an import is: `queued` until its job starts, then `processing`, and finally `done`,
/// `failed` (with a reason) or `skipped` (the vendor's last import had the same bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    Queued,
    Processing,
    Done,
    Failed,
    Skipped,
}

impl DocumentStatus {
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::Processing,
        Self::Done,
        Self::Failed,
        Self::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// No further change will come.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Skipped)
    }
}

/// One priced line of a document, as the processor read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    /// The sheet's name (`None` for CSV and TSV).
    pub sheet: Option<String>,
    /// 1-based, as a spreadsheet program numbers its rows.
    pub row: u32,
    pub sku: Option<String>,
    pub title: String,
    /// The normalised title (`parse::key::normalize_title_key`).
    pub product_key: String,
    /// Exact decimal, normalised (`"1500"`, `"12.5"`).
    pub price: String,
    /// ISO 4217.
    pub currency: String,
    pub quantity: Option<i32>,
    /// `new`, `ex_uk`, `refurbished` or `used`.
    pub condition: Option<String>,
    /// The row's cells, joined with ` | `.
    pub source_text: String,
}

impl DocumentRow {
    /// The row's identity within its vendor: the SKU when the sheet has one, else the product key
    /// of the description. The same key in the next import is the same offer.
    pub fn row_key(&self) -> String {
        match self.sku.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(sku) => format!("sku:{}", sku.to_lowercase()),
            None => format!("key:{}", self.product_key),
        }
    }

    /// Over every field that changes the offer; equal hashes mean an unchanged row.
    pub fn row_hash(&self) -> String {
        let mut hash = Sha256::new();
        let fields = [
            self.title.as_str(),
            self.price.as_str(),
            self.currency.as_str(),
            &self.quantity.map(|q| q.to_string()).unwrap_or_default(),
            self.condition.as_deref().unwrap_or(""),
            self.sku.as_deref().unwrap_or(""),
        ];
        for field in fields {
            hash.update(field.as_bytes());
            hash.update([0x1f]);
        }
        hex::encode(hash.finalize())
    }
}

/// A line that could not be read, with its place and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// 1-based row number; null for a problem with the whole sheet.
    pub row: Option<u32>,
    /// The sheet's name, or null for CSV and TSV.
    pub sheet: Option<String>,
    pub reason: String,
}

/// What an import did to the vendor's offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentCounts {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub removed: i64,
    pub errors: i64,
    /// Rows the LLM read (only with `prefer_llm`); they are among `created`, `updated` and
    /// `unchanged`.
    #[serde(default)]
    pub llm_rows: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sku: Option<&str>, price: &str) -> DocumentRow {
        DocumentRow {
            sheet: None,
            row: 2,
            sku: sku.map(str::to_owned),
            title: "iPhone 12 64GB".into(),
            product_key: "iphone 12 64gb".into(),
            price: price.into(),
            currency: "KES".into(),
            quantity: Some(3),
            condition: Some("new".into()),
            source_text: String::new(),
        }
    }

    #[test]
    fn the_key_is_the_sku_else_the_product_key() {
        assert_eq!(row(Some(" AB-12 "), "1").row_key(), "sku:ab-12");
        assert_eq!(row(None, "1").row_key(), "key:iphone 12 64gb");
        assert_eq!(row(Some(""), "1").row_key(), "key:iphone 12 64gb");
    }

    #[test]
    fn the_hash_moves_with_the_price_and_not_with_the_row_number() {
        let a = row(None, "1500");
        let mut moved = a.clone();
        moved.row = 40;
        moved.source_text = "other".into();
        assert_eq!(a.row_hash(), moved.row_hash());
        assert_ne!(a.row_hash(), row(None, "1600").row_hash());
    }

    #[test]
    fn statuses_round_trip() {
        for status in DocumentStatus::ALL {
            assert_eq!(DocumentStatus::parse(status.as_str()), Some(status));
        }
        assert!(DocumentStatus::Skipped.is_final() && !DocumentStatus::Queued.is_final());
    }
}
