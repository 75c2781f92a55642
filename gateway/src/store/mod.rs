//! Storage: the one place that knows which database backs the gateway.
//! Handlers see [`Store`]; the backend (embedded SQLite or PostgreSQL) is
//! chosen once at start from `DATABASE_URL`. Reads and rarely-run writes are
//! shared SQL through sqlx; the ingest write path is dialect-specific
//! (`sqlite_writer`, `postgres_writer`) because it is the hot path.

pub mod admin_lists;
pub mod catalog_writes;
pub mod catalogs;
pub mod chat_index;
pub mod checkpoint;
pub mod dedupe_index;
pub mod deliveries;
mod document_writes;
pub mod documents;
pub mod events;
pub mod group;
pub mod jobs;
pub mod jobs_admin;
pub mod link_budget;
pub mod market;
pub mod placeholders;
pub mod postgres_group_sql;
pub mod postgres_writer;
pub mod price_history;
pub mod products;
pub mod purge;
pub mod queries;
pub mod search_allowed;
pub mod search_index;
mod search_pg;
mod search_pg_vocab;
mod search_terms;
mod search_words;
pub mod search_rows;
mod rows;
pub mod sender_vendors;
pub mod settings;
pub mod sqlite_summary;
pub mod sqlite_writer;
pub mod sqlite_writer_loop;
mod spread_map;
pub mod summary_fold;
pub mod sync_log;
pub mod tx;
pub mod write_gate;

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{
    domain::{FailureFlush, PreparedBatch},
    metrics::Metrics,
};
pub use settings::StoreSettings;
use group::MessageOutcome;
use postgres_writer::PostgresWriter;
use sqlite_writer::{SqliteWriter, WriterSettings};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot take the write now; the client should retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("the ingest writer has stopped")]
    WriterStopped,
    /// A write failed for a reason that will not clear by retrying.
    #[error("write failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    /// Connection-level trouble that clears by itself (503, not 500).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable(_) | Self::WriterStopped | Self::Sqlite(_) => true,
            Self::Sqlx(error) => matches!(
                error,
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            ) || error.as_database_error().is_some_and(|db| {
                db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P") || code == "40001" || code == "40P01")
            }),
            Self::Migrate(_) | Self::Failed(_) => false,
        }
    }
}

/// Which readiness check failed. [`check`](Self::check) and
/// [`summary`](Self::summary) are safe to show anyone; the `Display` text
/// (the driver's error) belongs in the log.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("the ingest writer has stopped")]
    Writer,
    #[error("the database does not answer: {0}")]
    Database(#[source] StoreError),
    #[error("{applied} of {expected} migrations applied")]
    Migrations { applied: usize, expected: usize },
}

impl NotReady {
    pub fn check(&self) -> &'static str {
        match self {
            Self::Writer => "writer",
            Self::Database(_) => "database",
            Self::Migrations { .. } => "migrations",
        }
    }

    pub fn summary(&self) -> String {
        match self {
            Self::Writer => "the ingest writer has stopped".to_owned(),
            Self::Database(_) => "the database does not answer".to_owned(),
            Self::Migrations { applied, expected } => format!("{applied} of {expected} migrations applied"),
        }
    }
}

/// The connection pool, by backend. Shared queries match on it once.
#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

enum IngestWriter {
    Sqlite(SqliteWriter),
    Postgres(PostgresWriter),
}

pub struct Store {
    pub db: Database,
    writer: IngestWriter,
    migrations_expected: usize,
}

impl Store {
    pub async fn open(config: &StoreSettings, metrics: Arc<Metrics>) -> Result<Self, StoreError> {
        if config.is_postgres() {
            let options = PgConnectOptions::from_str(&config.database_url)?;
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(config.acquire_timeout)
                .connect_with(options)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            let writer = PostgresWriter::start(pool.clone(), config, metrics);
            let migrations_expected = POSTGRES_MIGRATIONS.iter().count();
            return Ok(Self { db: Database::Postgres(pool), writer: IngestWriter::Postgres(writer), migrations_expected });
        }
        let options = SqliteConnectOptions::from_str(&config.database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Only the checkpoint thread checkpoints (store/checkpoint.rs).
            .pragma("wal_autocheckpoint", "0");
        let path = options.get_filename().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", parent.display())))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections.min(8))
            .connect_with(options)
            .await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        let settings = WriterSettings {
            path,
            cache_mb: config.sqlite_cache_mb,
            content_window_ms: config.content_hash_window.as_millis() as i64,
            debounce_ms: config.extract_debounce.as_millis() as i64,
            max_wait_ms: config.extract_max_wait.as_millis() as i64,
        };
        let writer = tokio::task::spawn_blocking(move || SqliteWriter::start(settings, metrics))
            .await
            .map_err(|e| StoreError::Unavailable(format!("writer start-up panicked: {e}")))??;
        let migrations_expected = SQLITE_MIGRATIONS.iter().count();
        Ok(Self { db: Database::Sqlite(pool), writer: IngestWriter::Sqlite(writer), migrations_expected })
    }

    /// Stores a batch durably; returns one outcome per message, in order.
    pub async fn store_batch(&self, batch: PreparedBatch) -> Result<Vec<MessageOutcome>, StoreError> {
        match &self.writer {
            IngestWriter::Sqlite(writer) => writer.store(batch).await,
            IngestWriter::Postgres(writer) => writer.store(batch).await,
        }
    }

    /// Returns once the ingest deltas committed so far are folded into the
    /// chat, client and total rows (`summary_fold.rs`): for readers of
    /// per-chat counters who must see every answered request.
    pub async fn settle(&self) -> Result<(), StoreError> {
        match &self.writer {
            IngestWriter::Sqlite(writer) => writer.settle().await,
            IngestWriter::Postgres(writer) => writer.settle().await,
        }
    }

    pub async fn record_failures(&self, flush: FailureFlush) -> Result<(), StoreError> {
        match &self.writer {
            IngestWriter::Sqlite(writer) => writer.record_failures(flush).await,
            IngestWriter::Postgres(_) => queries::record_failures_pg(&self.db, &flush).await,
        }
    }

    /// Removes (or, with `dry_run`, counts) everything derived from the
    /// batches of clients whose id starts with `prefix`, in one transaction.
    pub async fn purge_clients(&self, prefix: purge::ClientPrefix, dry_run: bool) -> Result<purge::PurgeCounts, StoreError> {
        match &self.writer {
            IngestWriter::Sqlite(writer) => writer.purge(prefix, dry_run).await,
            IngestWriter::Postgres(writer) => {
                // The purge adjusts chat, client and total rows: they must hold every delta first.
                writer.settle().await?;
                purge::purge_postgres(&self.db, &prefix, dry_run).await
            }
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self.db {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// Ready when the database answers, every migration is applied and the
    /// writer runs.
    pub async fn readiness(&self) -> Result<usize, NotReady> {
        let writer_running = match &self.writer {
            IngestWriter::Sqlite(writer) => writer.is_running(),
            IngestWriter::Postgres(writer) => writer.is_running(),
        };
        if !writer_running {
            return Err(NotReady::Writer);
        }
        let applied = queries::applied_migrations(&self.db).await.map_err(NotReady::Database)?;
        if applied < self.migrations_expected {
            return Err(NotReady::Migrations { applied, expected: self.migrations_expected });
        }
        Ok(applied)
    }

    /// Drains the writer (everything queued is committed and answered) and
    /// closes the pool.
    pub async fn close(&self) {
        match &self.writer {
            IngestWriter::Sqlite(writer) => writer.close().await,
            IngestWriter::Postgres(writer) => writer.close().await,
        }
        match &self.db {
            Database::Sqlite(pool) => pool.close().await,
            Database::Postgres(pool) => pool.close().await,
        }
    }
}
