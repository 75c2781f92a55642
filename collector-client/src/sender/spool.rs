//! The spool: every batch is a file in `SPOOL_DIR` before it is sent, and
//! is removed only after the gateway answered 2xx. Files are written to a
//! temporary name, fsync'd, renamed into place and the directory fsync'd, so
//! a crash leaves either a whole batch or nothing. Names carry a monotonic
//! sequence, so batches are resent in the order they were made.
//!
//! A batch the gateway refused for good (a 4xx other than 408/429) moves to
//! `rejected/` beside a `.reason.json` saying why; nothing retries it. An
//! exclusive lock on `.lock` keeps two collectors from sending one spool.
//!
//! Batches hold message text and phone numbers: the spool and `rejected/`
//! are 0700 and every file in them 0600 (see [`crate::private_fs`]); what an
//! older collector or an operator left looser is tightened at open.

use crate::private_fs;
use chrono::Utc;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const BATCH_PREFIX: &str = "b";
const BATCH_SUFFIX: &str = ".json";
const TEMP_PREFIX: &str = ".tmp-";
pub const REJECTED_DIR: &str = "rejected";

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool directory {dir}: {source}")]
    Io { dir: String, source: std::io::Error },
    #[error("spool directory {dir} is in use by another collector process (lock file {dir}/.lock)")]
    Locked { dir: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpooledBatch {
    /// File name without directory, e.g. `b00001732272000000001.json`.
    pub name: String,
    pub path: PathBuf,
}

impl SpooledBatch {
    /// The name without extension, used as a request id prefix in logs.
    pub fn id(&self) -> &str {
        self.name.strip_suffix(BATCH_SUFFIX).unwrap_or(&self.name)
    }
}

#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    rejected_dir: PathBuf,
    next_sequence: AtomicU64,
    // Held for the life of the spool; the OS lock goes with the handle.
    _lock: File,
}

impl Spool {
    pub fn open(dir: &Path) -> Result<Self, SpoolError> {
        let io = |source| SpoolError::Io { dir: dir.display().to_string(), source };
        let rejected_dir = dir.join(REJECTED_DIR);
        private_fs::create_dir_all(&rejected_dir).map_err(io)?;
        let lock_path = dir.join(".lock");
        let lock = private_fs::open_for_write(&lock_path, false).map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(SpoolError::Locked { dir: dir.display().to_string() });
            }
            Err(fs::TryLockError::Error(source)) => return Err(io(source)),
        }
        for path in [dir, rejected_dir.as_path(), lock_path.as_path()] {
            tighten(path);
        }
        // A temporary file is a batch whose write never finished, so it was
        // never acknowledged to anyone: dropping it loses nothing promised.
        for entry in fs::read_dir(dir).map_err(io)?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                fs::remove_file(entry.path()).map_err(io)?;
            }
        }
        let mut highest = 0;
        for entries in [dir, rejected_dir.as_path()].iter().filter_map(|dir| fs::read_dir(dir).ok()) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(BATCH_SUFFIX) {
                    tighten(&entry.path());
                }
                highest = highest.max(sequence_of(&name).unwrap_or(0));
            }
        }
        let now_micros = u64::try_from(Utc::now().timestamp_micros()).unwrap_or(0);
        Ok(Self { dir: dir.to_owned(), rejected_dir, next_sequence: AtomicU64::new(highest.max(now_micros) + 1), _lock: lock })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one batch durably and returns it once it is safe on disk.
    pub fn write(&self, body: &[u8]) -> Result<SpooledBatch, SpoolError> {
        let io = |source| SpoolError::Io { dir: self.dir.display().to_string(), source };
        let sequence = self.next_sequence.fetch_add(1, Ordering::Relaxed);
        let name = format!("{BATCH_PREFIX}{sequence:020}{BATCH_SUFFIX}");
        let temp = self.dir.join(format!("{TEMP_PREFIX}{name}"));
        let path = self.dir.join(&name);
        let mut file = private_fs::create_new(&temp).map_err(io)?;
        file.write_all(body).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        fs::rename(&temp, &path).map_err(io)?;
        sync_dir(&self.dir).map_err(io)?;
        Ok(SpooledBatch { name, path })
    }

    /// Batches waiting to be sent, oldest first.
    pub fn pending(&self) -> Result<Vec<SpooledBatch>, SpoolError> {
        let io = |source| SpoolError::Io { dir: self.dir.display().to_string(), source };
        let mut batches: Vec<SpooledBatch> = fs::read_dir(&self.dir)
            .map_err(io)?
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                sequence_of(&name).map(|_| SpooledBatch { path: entry.path(), name })
            })
            .collect();
        batches.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(batches)
    }

    pub fn read(&self, batch: &SpooledBatch) -> Result<Vec<u8>, SpoolError> {
        fs::read(&batch.path).map_err(|source| SpoolError::Io { dir: self.dir.display().to_string(), source })
    }

    pub fn remove(&self, batch: &SpooledBatch) -> Result<(), SpoolError> {
        let io = |source| SpoolError::Io { dir: self.dir.display().to_string(), source };
        match fs::remove_file(&batch.path) {
            Ok(()) => sync_dir(&self.dir).map_err(io),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(io(error)),
        }
    }

    /// Moves a refused batch to `rejected/` with its reason beside it.
    pub fn reject(&self, batch: &SpooledBatch, status: u16, reason: &str, attempts: u32) -> Result<PathBuf, SpoolError> {
        let io = |source| SpoolError::Io { dir: self.rejected_dir.display().to_string(), source };
        let record = serde_json::json!({
            "batch": batch.name,
            "status": status,
            "reason": reason,
            "attempts": attempts,
            "rejected_at": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let reason_path = self.rejected_dir.join(format!("{}.reason.json", batch.id()));
        let mut file = private_fs::open_for_write(&reason_path, true).map_err(io)?;
        file.write_all(record.to_string().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        let target = self.rejected_dir.join(&batch.name);
        fs::rename(&batch.path, &target).map_err(io)?;
        sync_dir(&self.rejected_dir).map_err(io)?;
        sync_dir(&self.dir).map_err(io)?;
        Ok(target)
    }

    /// Writes the messages a gateway refused one by one (inside a 2xx) to
    /// `rejected/` as a batch of their own, with its reason beside it, so
    /// they can be looked at and, once fixed, moved back like any batch.
    pub fn reject_part(&self, from: &SpooledBatch, body: &[u8], status: u16, reason: &str) -> Result<PathBuf, SpoolError> {
        let io = |source| SpoolError::Io { dir: self.rejected_dir.display().to_string(), source };
        let sequence = self.next_sequence.fetch_add(1, Ordering::Relaxed);
        let name = format!("{BATCH_PREFIX}{sequence:020}{BATCH_SUFFIX}");
        let batch = SpooledBatch { path: self.rejected_dir.join(&name), name };
        let record = serde_json::json!({
            "batch": batch.name,
            "part_of": from.name,
            "status": status,
            "reason": reason,
            "attempts": 1,
            "rejected_at": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let reason_path = self.rejected_dir.join(format!("{}.reason.json", batch.id()));
        let mut file = private_fs::open_for_write(&reason_path, true).map_err(io)?;
        file.write_all(record.to_string().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        let temp = self.rejected_dir.join(format!("{TEMP_PREFIX}{}", batch.name));
        let mut file = private_fs::create_new(&temp).map_err(io)?;
        file.write_all(body).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        fs::rename(&temp, &batch.path).map_err(io)?;
        sync_dir(&self.rejected_dir).map_err(io)?;
        Ok(batch.path)
    }

    pub fn rejected_dir(&self) -> &Path {
        &self.rejected_dir
    }
}

fn sequence_of(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(BATCH_PREFIX)?.strip_suffix(BATCH_SUFFIX)?;
    (digits.len() == 20).then(|| digits.parse().ok()).flatten()
}

/// Owner-only access, or a warning: a spool we cannot tighten still works.
fn tighten(path: &Path) {
    match private_fs::tighten(path) {
        Ok(Some(old)) => {
            tracing::info!(path = %path.display(), old_mode = format!("{old:o}"), "spool permissions tightened to owner-only")
        }
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "cannot make a spool path owner-only; other users may read it")
        }
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
    }

    #[test]
    fn batches_survive_reopening_in_order() {
        let dir = temp_dir();
        let names = {
            let spool = Spool::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
            let names: Vec<_> = (0..3).map(|i| spool.write(format!("{{\"n\":{i}}}").as_bytes()).map(|b| b.name)).collect();
            names.into_iter().collect::<Result<Vec<_>, _>>().unwrap_or_else(|e| panic!("{e}"))
        };
        let spool = Spool::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let pending = spool.pending().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pending.iter().map(|b| b.name.clone()).collect::<Vec<_>>(), names);
        assert_eq!(spool.read(&pending[2]).ok().as_deref(), Some(&b"{\"n\":2}"[..]));
        // New batches sort after the ones already there.
        let newer = spool.write(b"{}").unwrap_or_else(|e| panic!("{e}"));
        assert!(newer.name > names[2]);
    }

    #[test]
    fn a_second_collector_cannot_open_a_spool_in_use() {
        let dir = temp_dir();
        let _first = Spool::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let second = Spool::open(dir.path());
        assert!(matches!(second, Err(SpoolError::Locked { .. })), "{second:?}");
    }

    #[test]
    fn unfinished_writes_are_cleared_and_rejects_keep_their_reason() {
        let dir = temp_dir();
        fs::write(dir.path().join(".tmp-b00000000000000000001.json"), b"half").unwrap_or_else(|e| panic!("{e}"));
        let spool = Spool::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!dir.path().join(".tmp-b00000000000000000001.json").exists());
        let batch = spool.write(b"{}").unwrap_or_else(|e| panic!("{e}"));
        let moved = spool.reject(&batch, 422, "schema: messages[0].chat_title", 1).unwrap_or_else(|e| panic!("{e}"));
        assert!(moved.exists());
        assert!(spool.pending().unwrap_or_else(|e| panic!("{e}")).is_empty());
        let reason = fs::read_to_string(spool.rejected_dir().join(format!("{}.reason.json", batch.id()))).unwrap_or_default();
        let reason: serde_json::Value = serde_json::from_str(&reason).unwrap_or_default();
        assert_eq!(reason["status"], 422);
        assert_eq!(reason["reason"], "schema: messages[0].chat_title");
    }

    #[cfg(unix)]
    #[test]
    fn the_spool_is_owner_only_and_an_older_loose_one_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        let set = |path: &Path, mode: u32| fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap_or_else(|e| panic!("{e}"));
        let root = temp_dir();
        // As an older collector left it under umask 022.
        let dir = root.path().join("spool");
        fs::create_dir_all(dir.join(REJECTED_DIR)).unwrap_or_else(|e| panic!("{e}"));
        let old_batch = dir.join("b00000000000000000001.json");
        fs::write(&old_batch, b"{}").unwrap_or_else(|e| panic!("{e}"));
        for (path, loose) in [(dir.as_path(), 0o755), (dir.join(REJECTED_DIR).as_path(), 0o775), (old_batch.as_path(), 0o644)] {
            set(path, loose);
        }

        let spool = Spool::open(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((mode(&dir), mode(spool.rejected_dir()), mode(&old_batch), mode(&dir.join(".lock"))), (0o700, 0o700, 0o600, 0o600));
        let batch = spool.write(b"{}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mode(&batch.path), 0o600);
        let moved = spool.reject(&batch, 400, "malformed_json", 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mode(&moved), 0o600);
        assert_eq!(mode(&spool.rejected_dir().join(format!("{}.reason.json", batch.id()))), 0o600);
    }
}
