//! The admin console's list queries: chats, vendors, jobs and events with a
//! text search, filters and keyset pagination (each page starts after the
//! previous page's last sort key, so pages stay stable while rows arrive),
//! plus the WhatsApp times of a page of offers. Shared SQL for both backends;
//! every filter is a bound parameter, and text search is a case-insensitive
//! `LIKE` with the pattern's wildcards escaped.

use super::{
    Database, StoreError,
    events::Event,
    jobs_admin::JobRow,
    market::{ChatSummary, Vendor},
    queries::on_pool,
};

/// A case-insensitive "contains" pattern for `LIKE … ESCAPE '\'`.
pub fn like_pattern(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Some(pattern)
}

/// Where the next page of chats starts: after this (mapped, last message, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatKey {
    pub mapped: i64,
    pub last_message_at_ms: i64,
    pub chat_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct ChatQuery {
    /// A `like_pattern` over title and chat id.
    pub pattern: Option<String>,
    /// `Some(false)`: unmapped chats only; `Some(true)`: mapped only.
    pub mapped: Option<bool>,
    pub vendor_id: Option<i64>,
    pub after: Option<ChatKey>,
    pub limit: i64,
    /// Hide the chats whose messages all come from clients with this `client_id` prefix.
    pub hide_client_prefix: Option<String>,
}

impl ChatKey {
    pub fn of(chat: &ChatSummary) -> Self {
        Self {
            mapped: i64::from(chat.vendor_id.is_some()),
            last_message_at_ms: chat.last_message_at_ms,
            chat_id: chat.chat_id.clone(),
        }
    }
}

/// Unmapped chats first, then by latest activity, then by id (the order of `chat_summaries`).
pub async fn chats(db: &Database, query: &ChatQuery) -> Result<Vec<ChatSummary>, StoreError> {
    let sql = r"SELECT c.id AS chat_id, c.title, c.vendor_id, v.name AS vendor_name,
            c.created_count AS message_count, c.offer_count, c.last_message_at_ms, c.extract_due_at_ms,
            c.last_extracted_at_ms
        FROM chats c LEFT JOIN vendors v ON v.id = c.vendor_id
        WHERE ($1 IS NULL OR LOWER(c.title) LIKE $1 ESCAPE '\' OR LOWER(c.id) LIKE $1 ESCAPE '\')
          AND ($2 IS NULL OR (CASE WHEN c.vendor_id IS NULL THEN 0 ELSE 1 END) = $2)
          AND ($3 IS NULL OR c.vendor_id = $3)
          AND ($4 IS NULL OR (CASE WHEN c.vendor_id IS NULL THEN 0 ELSE 1 END) > $4
               OR ((CASE WHEN c.vendor_id IS NULL THEN 0 ELSE 1 END) = $4
                   AND (c.last_message_at_ms < $5 OR (c.last_message_at_ms = $5 AND c.id > $6))))
          AND ($8 IS NULL OR c.id NOT IN (SELECT chat_id FROM messages GROUP BY chat_id
               HAVING SUM(CASE WHEN substr(client_id, 1, length($8)) = $8 THEN 0 ELSE 1 END) = 0))
        ORDER BY CASE WHEN c.vendor_id IS NULL THEN 0 ELSE 1 END, c.last_message_at_ms DESC, c.id
        LIMIT $7";
    let mapped = query.mapped.map(i64::from);
    let after = query.after.as_ref();
    Ok(on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(query.pattern.as_deref())
        .bind(mapped)
        .bind(query.vendor_id)
        .bind(after.map(|k| k.mapped))
        .bind(after.map(|k| k.last_message_at_ms))
        .bind(after.map(|k| k.chat_id.as_str()))
        .bind(query.limit)
        .bind(query.hide_client_prefix.as_deref())
        .fetch_all(pool)
        .await?))
}

#[derive(Debug, Clone, Default)]
pub struct VendorQuery {
    pub pattern: Option<String>,
    /// After this (name, id).
    pub after: Option<(String, i64)>,
    pub limit: i64,
}

/// Vendors by name, then id.
pub async fn vendors(db: &Database, query: &VendorQuery) -> Result<Vec<Vendor>, StoreError> {
    let sql = r"SELECT v.id, v.name, v.default_currency, v.created_at_ms,
                  (SELECT COUNT(*) FROM chats c WHERE c.vendor_id = v.id) AS chat_count,
                  (SELECT COUNT(*) FROM offers o WHERE o.vendor_id = v.id) AS offer_count
           FROM vendors v
           WHERE ($1 IS NULL OR LOWER(v.name) LIKE $1 ESCAPE '\')
             AND ($2 IS NULL OR v.name > $2 OR (v.name = $2 AND v.id > $3))
           ORDER BY v.name, v.id LIMIT $4";
    let after = query.after.as_ref();
    Ok(on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(query.pattern.as_deref())
        .bind(after.map(|(name, _)| name.as_str()))
        .bind(after.map(|(_, id)| *id))
        .bind(query.limit)
        .fetch_all(pool)
        .await?))
}

#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    pub state: Option<String>,
    pub stage: Option<String>,
    /// Over the dedupe key and the last error.
    pub pattern: Option<String>,
    /// After this (updated_at_ms, id), newest first.
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

const JOB_COLUMNS: &str =
    "id, stage, dedupe_key, state, attempts, run_at_ms, last_error, last_status, updated_at_ms";

/// Jobs, most recently changed first.
pub async fn jobs(db: &Database, query: &JobQuery) -> Result<Vec<JobRow>, StoreError> {
    let sql = format!(
        r"SELECT {JOB_COLUMNS} FROM jobs
          WHERE ($1 IS NULL OR state = $1)
            AND ($2 IS NULL OR stage = $2)
            AND ($3 IS NULL OR LOWER(dedupe_key) LIKE $3 ESCAPE '\' OR LOWER(COALESCE(last_error, '')) LIKE $3 ESCAPE '\')
            AND ($4 IS NULL OR updated_at_ms < $4 OR (updated_at_ms = $4 AND id < $5))
          ORDER BY updated_at_ms DESC, id DESC LIMIT $6"
    );
    Ok(on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind(query.state.as_deref())
        .bind(query.stage.as_deref())
        .bind(query.pattern.as_deref())
        .bind(query.after.map(|(at, _)| at))
        .bind(query.after.map(|(_, id)| id))
        .bind(query.limit)
        .fetch_all(pool)
        .await?))
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub kind: Option<String>,
    /// Over the chat id and the detail.
    pub pattern: Option<String>,
    /// Events with a smaller id.
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Events of the diagnostics log, newest first.
pub async fn events(db: &Database, query: &EventQuery) -> Result<Vec<Event>, StoreError> {
    let sql = r"SELECT id, at_ms, kind, chat_id, request_id, detail FROM event_log
        WHERE ($1 IS NULL OR kind = $1)
          AND ($2 IS NULL OR LOWER(COALESCE(chat_id, '')) LIKE $2 ESCAPE '\' OR LOWER(detail) LIKE $2 ESCAPE '\')
          AND ($3 IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4";
    Ok(on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(query.kind.as_deref())
        .bind(query.pattern.as_deref())
        .bind(query.before_id)
        .bind(query.limit)
        .fetch_all(pool)
        .await?))
}

/// The kinds of event the log holds (for the filter).
pub async fn event_kinds(db: &Database) -> Result<Vec<String>, StoreError> {
    let sql = "SELECT DISTINCT kind FROM event_log ORDER BY kind LIMIT 100";
    Ok(on_pool!(db, |pool| sqlx::query_scalar(sql)
        .fetch_all(pool)
        .await?))
}

/// The WhatsApp timestamps (`upstream_ts_ms`) of these messages, where the message gave one.
pub async fn message_times(
    db: &Database,
    message_pks: &[i64],
) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
    if message_pks.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=message_pks.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, upstream_ts_ms FROM messages WHERE id IN ({})",
        placeholders.join(", ")
    );
    Ok(on_pool!(db, |pool| {
        let mut query = sqlx::query_as(&sql);
        for pk in message_pks {
            query = query.bind(*pk);
        }
        query.fetch_all(pool).await?
    }))
}

/// The titles of these chats (for the offers page's chat column).
pub async fn chat_titles(
    db: &Database,
    chat_ids: &[&str],
) -> Result<Vec<(String, String)>, StoreError> {
    if chat_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=chat_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, title FROM chats WHERE id IN ({})",
        placeholders.join(", ")
    );
    Ok(on_pool!(db, |pool| {
        let mut query = sqlx::query_as(&sql);
        for id in chat_ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await?
    }))
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn patterns_escape_wildcards_and_ignore_case() {
        assert_eq!(like_pattern("  Phones "), Some("%phones%".into()));
        assert_eq!(like_pattern("50%_off\\"), Some("%50\\%\\_off\\\\%".into()));
        assert_eq!(like_pattern("   "), None);
    }
}
