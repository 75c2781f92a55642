//! The import diff's batch writes, one dialect each: SQLite gets multi-row `INSERT … VALUES` and
//! `WITH v(…) AS (VALUES …) UPDATE … FROM v` in chunks under its parameter limit, with anonymous
//! `?` parameters bound in text order (see `store::placeholders`); PostgreSQL gets one statement
//! per kind over `UNNEST` arrays. Never a statement per row.

use super::{StoreError, documents::RowWrite, placeholders, tx::Tx};

/// Rows per SQLite statement: 14 parameters each stays far under SQLite's 32,766.
const SQLITE_CHUNK: usize = 1_000;

fn len_i32(text: &str) -> i32 {
    i32::try_from(text.len()).unwrap_or(i32::MAX)
}

fn row_i32(write: &RowWrite<'_>) -> i32 {
    i32::try_from(write.row.row).unwrap_or(i32::MAX)
}

/// New offers of `document_id` for `vendor_id`; returns `(offer id, row key)` of each (in no
/// particular order), so their first prices can go to `price_history`.
pub async fn insert_rows(
    tx: &mut Tx,
    document_id: i64,
    vendor_id: i64,
    received_at_ms: i64,
    rows: &[RowWrite<'_>],
    now_ms: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut written: Vec<(i64, String)> = Vec::with_capacity(rows.len());
    match tx {
        Tx::Sqlite(transaction, ..) => {
            for chunk in rows.chunks(SQLITE_CHUNK) {
                // The first five are shared: document, vendor, received, created, updated.
                let sql = format!(
                    "INSERT INTO offers (source_document_id, vendor_id, message_received_at_ms, created_at_ms, updated_at_ms,
                                         item_index, span_start, source_row, title, product_key, price, currency, quantity,
                                         condition, span_end, source_text, search_text, row_key, row_hash, active)
                     SELECT ?, ?, ?, ?, ?, 0, 0, v.* , 1 FROM (VALUES {}) AS v
                     RETURNING id, row_key",
                    placeholders::rows(false, chunk.len(), 12, 0)
                );
                let mut query = sqlx::query_as(&sql)
                    // A short last chunk's text is one of a kind: not worth a cached statement.
                    .persistent(chunk.len() == SQLITE_CHUNK)
                    .bind(document_id)
                    .bind(vendor_id)
                    .bind(received_at_ms)
                    .bind(now_ms)
                    .bind(now_ms);
                for w in chunk {
                    query = query
                        .bind(row_i32(w))
                        .bind(&w.row.title)
                        .bind(&w.row.product_key)
                        .bind(&w.row.price)
                        .bind(&w.row.currency)
                        .bind(w.row.quantity)
                        .bind(w.row.condition.as_deref())
                        .bind(len_i32(&w.row.source_text))
                        .bind(&w.row.source_text)
                        .bind(&w.search_text)
                        .bind(&w.row_key)
                        .bind(&w.row_hash);
                }
                written.extend(query.fetch_all(&mut **transaction).await?);
            }
        }
        Tx::Postgres(transaction, ..) => {
            let sql = "INSERT INTO offers (source_document_id, vendor_id, message_received_at_ms, created_at_ms, updated_at_ms,
                                           item_index, span_start, source_row, title, product_key, price, currency, quantity,
                                           condition, span_end, source_text, search_text, row_key, row_hash, active)
                       SELECT $1::bigint, $2::bigint, $3::bigint, $4::bigint, $4::bigint, 0, 0, v.*, 1
                       FROM UNNEST($5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[], $11::text[],
                                   $12::int[], $13::text[], $14::text[], $15::text[], $16::text[]) AS v
                       RETURNING id, row_key";
            let columns = Columns::of(rows);
            let returned: Vec<(i64, String)> = sqlx::query_as(sql)
                .bind(document_id)
                .bind(vendor_id)
                .bind(received_at_ms)
                .bind(now_ms)
                .bind(columns.source_row)
                .bind(columns.title)
                .bind(columns.product_key)
                .bind(columns.price)
                .bind(columns.currency)
                .bind(columns.quantity)
                .bind(columns.condition)
                .bind(columns.span_end)
                .bind(columns.source_text)
                .bind(columns.search_text)
                .bind(columns.row_key)
                .bind(columns.row_hash)
                .fetch_all(&mut **transaction)
                .await?;
            written.extend(returned);
        }
    }
    Ok(written)
}

/// Existing offers (`(offer id, row)`) rewritten from `document_id`, and active again.
pub async fn update_rows(
    tx: &mut Tx,
    document_id: i64,
    rows: &[(i64, RowWrite<'_>)],
    now_ms: i64,
) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    // `p` (SQLite) or `$1`, `$2` (PostgreSQL) carry the document and the time.
    const SET: &str = "active = 1, source_row = v.source_row, title = v.title,
        product_key = v.product_key, price = v.price, currency = v.currency, quantity = v.quantity, condition = v.condition,
        span_end = v.span_end, source_text = v.source_text, search_text = v.search_text, row_hash = v.row_hash";
    let mut written = 0;
    match tx {
        Tx::Sqlite(transaction, ..) => {
            for chunk in rows.chunks(SQLITE_CHUNK) {
                // Text order: the two shared values, then the rows.
                let sql = format!(
                    "WITH p(document_id, now_ms) AS (SELECT ?, ?),
                          v(id, source_row, title, product_key, price, currency, quantity, condition, span_end, source_text,
                            search_text, row_hash) AS (VALUES {})
                     UPDATE offers SET source_document_id = p.document_id, updated_at_ms = p.now_ms, {SET}
                     FROM v, p WHERE offers.id = v.id",
                    placeholders::rows(false, chunk.len(), 12, 0)
                );
                let mut query = sqlx::query(&sql).persistent(chunk.len() == SQLITE_CHUNK).bind(document_id).bind(now_ms);
                for (id, w) in chunk {
                    query = query
                        .bind(*id)
                        .bind(row_i32(w))
                        .bind(&w.row.title)
                        .bind(&w.row.product_key)
                        .bind(&w.row.price)
                        .bind(&w.row.currency)
                        .bind(w.row.quantity)
                        .bind(w.row.condition.as_deref())
                        .bind(len_i32(&w.row.source_text))
                        .bind(&w.row.source_text)
                        .bind(&w.search_text)
                        .bind(&w.row_hash);
                }
                written += query.execute(&mut **transaction).await?.rows_affected();
            }
        }
        Tx::Postgres(transaction, ..) => {
            let sql = format!(
                "UPDATE offers SET source_document_id = $1, updated_at_ms = $2, {SET}
                 FROM UNNEST($3::bigint[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[],
                             $11::int[], $12::text[], $13::text[], $14::text[])
                      AS v(id, source_row, title, product_key, price, currency, quantity, condition, span_end, source_text,
                           search_text, row_hash)
                 WHERE offers.id = v.id"
            );
            let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
            let writes: Vec<&RowWrite<'_>> = rows.iter().map(|(_, w)| w).collect();
            let columns = Columns::of_refs(&writes);
            written += sqlx::query(&sql)
                .bind(document_id)
                .bind(now_ms)
                .bind(ids)
                .bind(columns.source_row)
                .bind(columns.title)
                .bind(columns.product_key)
                .bind(columns.price)
                .bind(columns.currency)
                .bind(columns.quantity)
                .bind(columns.condition)
                .bind(columns.span_end)
                .bind(columns.source_text)
                .bind(columns.search_text)
                .bind(columns.row_hash)
                .execute(&mut **transaction)
                .await?
                .rows_affected();
        }
    }
    Ok(written)
}

/// Offers that left their vendor's snapshot: inactive, never deleted.
pub async fn deactivate(tx: &mut Tx, ids: &[i64], now_ms: i64) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut written = 0;
    match tx {
        Tx::Sqlite(transaction, ..) => {
            for chunk in ids.chunks(SQLITE_CHUNK) {
                let sql = format!(
                    "UPDATE offers SET active = 0, updated_at_ms = ? WHERE id IN ({})",
                    placeholders::sqlite_list(chunk.len())
                );
                let mut query = sqlx::query(&sql).persistent(chunk.len() == SQLITE_CHUNK).bind(now_ms);
                for id in chunk {
                    query = query.bind(*id);
                }
                written += query.execute(&mut **transaction).await?.rows_affected();
            }
        }
        Tx::Postgres(transaction, ..) => {
            let sql =
                "UPDATE offers SET active = 0, updated_at_ms = $1 WHERE id = ANY($2::bigint[])";
            written += sqlx::query(sql)
                .bind(now_ms)
                .bind(ids.to_vec())
                .execute(&mut **transaction)
                .await?
                .rows_affected();
        }
    }
    Ok(written)
}

/// The rows as one array per column, for `UNNEST`.
#[derive(Default)]
struct Columns {
    source_row: Vec<i32>,
    title: Vec<String>,
    product_key: Vec<String>,
    price: Vec<String>,
    currency: Vec<String>,
    quantity: Vec<Option<i32>>,
    condition: Vec<Option<String>>,
    span_end: Vec<i32>,
    source_text: Vec<String>,
    search_text: Vec<String>,
    row_key: Vec<String>,
    row_hash: Vec<String>,
}

impl Columns {
    fn of(rows: &[RowWrite<'_>]) -> Self {
        Self::of_refs(&rows.iter().collect::<Vec<_>>())
    }

    fn of_refs(rows: &[&RowWrite<'_>]) -> Self {
        let mut c = Self::default();
        for w in rows {
            c.source_row.push(row_i32(w));
            c.title.push(w.row.title.clone());
            c.product_key.push(w.row.product_key.clone());
            c.price.push(w.row.price.clone());
            c.currency.push(w.row.currency.clone());
            c.quantity.push(w.row.quantity);
            c.condition.push(w.row.condition.clone());
            c.span_end.push(len_i32(&w.row.source_text));
            c.source_text.push(w.row.source_text.clone());
            c.search_text.push(w.search_text.clone());
            c.row_key.push(w.row_key.clone());
            c.row_hash.push(w.row_hash.clone());
        }
        c
    }
}
