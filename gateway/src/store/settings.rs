//! The store's settings: which database, its pool, the SQLite cache, and
//! the windows the ingest writers apply in the same transaction as the
//! messages (content-hash dedupe, extraction debounce). `config` reads them
//! from `DATABASE_*`, `SQLITE_CACHE_MB`, `WHATSAPP_CONTENT_HASH_WINDOW_HOURS`
//! and `WHATSAPP_EXTRACT_*`.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    pub max_connections: u32,
    /// `DATABASE_WRITE_GROUPS`: how many ingest groups the PostgreSQL writer commits at once
    /// (default: this host's cores; at most half the pool). Every replica's groups meet on the
    /// same primary, whose capacity falls when more commit at once than it has cores
    /// (docs/PERFORMANCE.md): with several replicas, keep their sum near the primary's cores.
    pub write_groups: usize,
    /// How long a request waits for a connection before answering 503
    /// (short, so an unreachable PostgreSQL fails requests fast).
    pub acquire_timeout: Duration,
    pub sqlite_cache_mb: u32,
    pub content_hash_window: Duration,
    pub extract_debounce: Duration,
    /// A chat that never goes quiet is extracted at most this long after its
    /// first pending message.
    pub extract_max_wait: Duration,
}

impl StoreSettings {
    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres://") || self.database_url.starts_with("postgresql://")
    }

    /// The defaults `config` applies, for unit tests that open a store directly.
    #[cfg(test)]
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            max_connections: 10,
            write_groups: 2,
            acquire_timeout: Duration::from_secs(1),
            sqlite_cache_mb: 64,
            content_hash_window: Duration::from_secs(24 * 3_600),
            extract_debounce: Duration::from_secs(10),
            extract_max_wait: Duration::from_secs(60),
        }
    }
}
