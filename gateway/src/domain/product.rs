//! A product of the product chain: found by extraction or scout, filled in by
//! hydrate (name, description, Meta CDN image, semantic hash), then by embed,
//! quality control and persist. The store reads and writes these rows; the
//! stages and the read API share this one record.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// `hydrate_status` values.
pub mod hydrate_status {
    pub const OK: &str = "ok";
    /// 404 or 410: the product is inactive.
    pub const GONE: &str = "gone";
    pub const NOT_A_PRODUCT: &str = "not_a_product";
    pub const FAILED: &str = "failed";
}

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub product_id: String,
    pub seller_phone: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub image_url: Option<String>,
    pub persisted_image_url: Option<String>,
    pub last_hydrated_at_ms: Option<i64>,
    pub active: i32,
    pub qc_decision: Option<String>,
    pub qc_confidence: Option<f64>,
    pub qc_reason: Option<String>,
    pub semantic_hash: Option<String>,
    pub last_embedding_hash: Option<String>,
    pub hydrate_status: Option<String>,
    /// When a re-scout found the product gone from its seller's catalog (it is then inactive).
    pub delisted_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Product {
    /// The product's title and description, empty when hydrate found none.
    pub fn title_and_description(&self) -> (&str, &str) {
        (self.name.as_deref().unwrap_or(""), self.description.as_deref().unwrap_or(""))
    }
}

/// sha256 (hex) over the fields an embedding depends on: title | description | image URL.
pub fn semantic_hash(name: Option<&str>, description: Option<&str>, image_url: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(name.unwrap_or_default().as_bytes());
    hasher.update(b"|");
    hasher.update(description.unwrap_or_default().as_bytes());
    hasher.update(b"|");
    hasher.update(image_url.unwrap_or_default().as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::semantic_hash;

    #[test]
    fn semantic_hash_separates_its_fields() {
        assert_ne!(semantic_hash(Some("a|b"), None, None), semantic_hash(Some("a"), Some("b"), None));
        assert_eq!(semantic_hash(None, None, None), semantic_hash(Some(""), Some(""), Some("")));
        assert_eq!(semantic_hash(Some("x"), None, None).len(), 64);
    }
}
