//! WAL checkpoints for the embedded default, off the ingest path. Every
//! connection runs with `wal_autocheckpoint = 0`; this thread alone copies
//! committed WAL frames into the database file (PASSIVE: it never blocks
//! writers or readers), so no group commit pays for a checkpoint. When the
//! WAL has grown large, a full pass succeeds and no commit came since the
//! last pass (or at shutdown), it is truncated.

use std::{
    path::PathBuf,
    sync::mpsc::{Receiver, RecvTimeoutError},
    time::Duration,
};

use rusqlite::Connection;

const INTERVAL: Duration = Duration::from_millis(500);
/// Frames (pages) beyond which a completed checkpoint truncates the WAL once
/// commits pause.
const TRUNCATE_AFTER_FRAMES: i64 = 16_384;
/// Under load a checkpoint rarely catches up with the writer on its own, so
/// past this many frames (1 GiB of 4 KiB pages) the WAL is truncated anyway.
const TRUNCATE_UNDER_LOAD_FRAMES: i64 = 262_144;

/// WAL frames past which it is truncated: once commits pause, or at once.
#[derive(Clone, Copy)]
struct Limits {
    idle: i64,
    under_load: i64,
}

pub struct Checkpointer {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(path: PathBuf) -> std::io::Result<Self> {
        Self::start_with(path, Limits { idle: TRUNCATE_AFTER_FRAMES, under_load: TRUNCATE_UNDER_LOAD_FRAMES })
    }

    fn start_with(path: PathBuf, limits: Limits) -> std::io::Result<Self> {
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&path, &stopped, limits))?;
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

fn run(path: &PathBuf, stopped: &Receiver<()>, limits: Limits) {
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
    // Frames in the WAL at the previous pass: unchanged means no commit since.
    let mut previous_log = -1;
    loop {
        let last = matches!(stopped.recv_timeout(INTERVAL), Ok(()) | Err(RecvTimeoutError::Disconnected));
        match checkpoint(&connection, "PASSIVE") {
            // TRUNCATE blocks new writers while it finishes the checkpoint, syncs the
            // database file and cuts the WAL: under load that held a group commit for
            // 50-100 ms every few seconds (issue 17, the batch-50 p99). So it waits for
            // a pass with no commit since the last one (or shutdown); a completed
            // PASSIVE pass also lets the writer restart the WAL from its start. Only
            // a WAL past the under-load bound is cut while commits keep coming.
            Ok((busy, log, done))
                if (busy == 0 && log > limits.idle && done == log && (log == previous_log || last)) || log > limits.under_load =>
            {
                if let Err(error) = checkpoint(&connection, "TRUNCATE") {
                    tracing::debug!(error = %error, "WAL truncate skipped");
                }
                previous_log = -1;
            }
            Ok((_, log, _)) => previous_log = log,
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use rusqlite::Connection;

    use super::{Checkpointer, Limits};

    fn wal_len(path: &std::path::Path) -> u64 {
        std::fs::metadata(path.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0)
    }

    /// Commits every 20 ms for 1.6 s (about 800 frames); returns how often the
    /// WAL file shrank meanwhile (a restarted WAL is rewritten from its start
    /// but keeps its length: only a truncate shrinks it) and its longest length.
    fn commit_for_a_while(writer: &Connection, path: &std::path::Path) -> (usize, u64) {
        let busy_until = Instant::now() + Duration::from_millis(1_600);
        let (mut shrank, mut last, mut longest) = (0, 0, 0);
        while Instant::now() < busy_until {
            writer.execute("INSERT INTO t (v) VALUES (zeroblob(40000))", []).expect("insert");
            let len = wal_len(path);
            shrank += usize::from(len < last);
            (last, longest) = (len, longest.max(len));
            std::thread::sleep(Duration::from_millis(20));
        }
        (shrank, longest)
    }

    fn database(dir: &tempfile::TempDir) -> (std::path::PathBuf, Connection) {
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).expect("open");
        writer
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (v BLOB);")
            .expect("schema");
        (path, writer)
    }

    /// Steady commits keep the WAL from being truncated (TRUNCATE would block
    /// them while it syncs the database file); once they stop, the grown WAL
    /// is truncated within a couple of passes.
    #[test]
    fn the_wal_is_truncated_only_when_commits_pause() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, writer) = database(&dir);
        let checkpointer = Checkpointer::start_with(path.clone(), Limits { idle: 8, under_load: 1_000_000 }).expect("start");
        let (shrank, longest) = commit_for_a_while(&writer, &path);
        assert_eq!(shrank, 0, "the WAL was truncated while commits were coming");
        assert!(longest > 8 * 4096, "the WAL grew past the truncate threshold ({longest} bytes)");
        let deadline = Instant::now() + Duration::from_secs(5);
        while wal_len(&path) > 0 {
            assert!(Instant::now() < deadline, "the WAL was not truncated after the commits stopped");
            std::thread::sleep(Duration::from_millis(50));
        }
        checkpointer.stop();
    }

    /// Past the under-load bound the WAL is cut even while commits keep coming.
    #[test]
    fn a_wal_past_the_under_load_bound_is_truncated_anyway() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, writer) = database(&dir);
        let checkpointer = Checkpointer::start_with(path.clone(), Limits { idle: 8, under_load: 100 }).expect("start");
        let (shrank, _) = commit_for_a_while(&writer, &path);
        assert!(shrank > 0, "a WAL of some 800 frames was never truncated with a bound of 100");
        checkpointer.stop();
    }
}
