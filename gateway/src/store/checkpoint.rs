//! WAL checkpoints for the embedded default, off the ingest path. Every
//! connection runs with `wal_autocheckpoint = 0`; this thread alone copies
//! committed WAL frames into the database file (PASSIVE: it never blocks
//! writers or readers), so no group commit pays for a checkpoint. When the
//! WAL has grown large and a full pass succeeds, it is truncated.

use std::{
    path::PathBuf,
    sync::mpsc::{Receiver, RecvTimeoutError},
    time::Duration,
};

use rusqlite::Connection;

const INTERVAL: Duration = Duration::from_millis(500);
/// Frames (pages) beyond which a completed checkpoint also truncates the WAL.
const TRUNCATE_AFTER_FRAMES: i64 = 16_384;

pub struct Checkpointer {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(path: PathBuf) -> std::io::Result<Self> {
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || run(&path, &stopped))?;
        Ok(Self { stop, thread: Some(thread) })
    }

    /// Stops the thread after one last checkpoint.
    pub fn stop(mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(path: &PathBuf, stopped: &Receiver<()>) {
    let connection = match Connection::open(path).and_then(|c| {
        c.execute_batch("PRAGMA busy_timeout = 1000; PRAGMA wal_autocheckpoint = 0;")?;
        Ok(c)
    }) {
        Ok(connection) => connection,
        Err(error) => {
            tracing::error!(error = %error, "checkpointer cannot open the database; the WAL will grow until restart");
            return;
        }
    };
    loop {
        let last = matches!(stopped.recv_timeout(INTERVAL), Ok(()) | Err(RecvTimeoutError::Disconnected));
        match checkpoint(&connection, "PASSIVE") {
            Ok((busy, log, done)) if busy == 0 && log > TRUNCATE_AFTER_FRAMES && done == log => {
                if let Err(error) = checkpoint(&connection, "TRUNCATE") {
                    tracing::debug!(error = %error, "WAL truncate skipped");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "WAL checkpoint failed; retrying"),
        }
        if last {
            break;
        }
    }
}

/// Returns (busy, frames in the WAL, frames checkpointed).
fn checkpoint(connection: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    connection.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
}
