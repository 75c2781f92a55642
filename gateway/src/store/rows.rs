//! sqlx row mapping for the domain records the store reads ([`Product`],
//! [`Offer`]). The records themselves live in `domain` and know no sqlx; the
//! mapping is written here once per backend by [`from_row!`], by column name.

use crate::domain::{Offer, Product};

/// `FromRow` for SQLite and PostgreSQL rows, each field read from the column of its name.
macro_rules! from_row {
    ($type:ty { $($field:ident),+ $(,)? }) => {
        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $type {
            fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok(Self { $($field: row.try_get(stringify!($field))?),+ })
            }
        }
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $type {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row;
                Ok(Self { $($field: row.try_get(stringify!($field))?),+ })
            }
        }
    };
}

from_row!(Product {
    product_id, seller_phone, name, description, image_url, persisted_image_url, last_hydrated_at_ms, active,
    qc_decision, qc_confidence, qc_reason, semantic_hash, last_embedding_hash, hydrate_status, delisted_at_ms,
    created_at_ms, updated_at_ms,
});

from_row!(Offer {
    id, chat_id, vendor_id, sender, source_message_pk, source_document_id, source_row, item_index, title, product_key, wa_product_id, price, currency, delivery_fee,
    quantity, condition, span_start, span_end, source_text, message_received_at_ms, created_at_ms, updated_at_ms,
});
