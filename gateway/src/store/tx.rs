//! A transaction on whichever backend is configured, so shared SQL can write
//! several statements atomically (an extraction's offers and the jobs they
//! cause commit together). SQLite write transactions begin `IMMEDIATE`, so
//! they wait for the write lock up front instead of failing half-way.

use sqlx::{Postgres, Sqlite, Transaction};

use super::{Database, StoreError};

/// The last field collects the job stages enqueued in this transaction; their workers in
/// this process are woken once it commits (a wake before the commit would find nothing).
pub enum Tx {
    /// Holds this file's write-gate turn until it commits or is dropped.
    Sqlite(Transaction<'static, Sqlite>, super::write_gate::WriteTurn, WakeSet),
    Postgres(Transaction<'static, Postgres>, WakeSet),
}

/// Job stages to wake after a commit (a small set; see `store::jobs::wake`).
#[derive(Debug, Default, Clone, Copy)]
pub struct WakeSet(u8);

/// Runs the same sqlx expression on the transaction's connection.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::store::tx::Tx::Sqlite(transaction, ..) => {
                let $conn = &mut **transaction;
                $body
            }
            $crate::store::tx::Tx::Postgres(transaction, ..) => {
                let $conn = &mut **transaction;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

impl Database {
    /// Begins a write transaction.
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Database::Sqlite(pool) => {
                let gate = super::write_gate::for_path(pool.connect_options().get_filename());
                let turn = gate.lock_owned().await;
                Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?, turn, WakeSet::default())
            }
            Database::Postgres(pool) => Tx::Postgres(pool.begin().await?, WakeSet::default()),
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

impl Tx {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Tx::Postgres(..))
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        let wakes = match self {
            Tx::Sqlite(transaction, turn, wakes) => {
                transaction.commit().await?;
                drop(turn);
                wakes
            }
            Tx::Postgres(transaction, wakes) => {
                transaction.commit().await?;
                wakes
            }
        };
        for stage in 0..8 {
            if wakes.0 & (1 << stage) != 0 {
                super::jobs::wake::after_commit(stage);
            }
        }
        Ok(())
    }

    /// Wakes the workers of stage number `stage` (`store::jobs::wake`) once this commits.
    pub(crate) fn wake_after_commit(&mut self, stage: u8) {
        let (Tx::Sqlite(_, _, wakes) | Tx::Postgres(_, wakes)) = self;
        wakes.0 |= 1 << (stage & 7);
    }
}
