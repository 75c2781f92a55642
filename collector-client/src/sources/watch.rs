//! `collector watch DIR`: sends every export (`.txt`, `.zip`) dropped into
//! a directory, once (seed 002 §5: a nightly export dropped into storage).
//!
//! A file is taken when its size and modification time held still between
//! two scans, so a half-copied file is not read. "Once" is kept across
//! restarts by a state file of content hashes, written after the file's
//! messages are durably spooled: a crash in between resends the file, and
//! its stable message ids make the gateway deduplicate the repeat. Renaming
//! or copying a file does not resend it; changing its content does.

use crate::config::ExportSettings;
use crate::export::{ExportOptions, parse_export, read_export_bytes};
use crate::metrics::{Metrics, Source};
use crate::private_fs;
use crate::sender::SenderHandle;
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub dir: PathBuf,
    pub poll_interval: Duration,
    pub state_file: PathBuf,
    pub export: ExportSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("watch state file {path}: {source}")]
    State { path: String, source: std::io::Error },
    #[error("watch state file {path} is not valid JSON: {source}")]
    StateFormat { path: String, source: serde_json::Error },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PostedFile {
    pub file: String,
    pub messages: usize,
    pub posted_at: String,
}

/// Files already posted, by SHA-256 of their content.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct WatchState {
    pub version: u32,
    pub posted: BTreeMap<String, PostedFile>,
}

impl WatchState {
    pub fn load(path: &Path) -> Result<Self, WatchError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| WatchError::StateFormat { path: path.display().to_string(), source }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self { version: 1, posted: BTreeMap::new() }),
            Err(source) => Err(WatchError::State { path: path.display().to_string(), source }),
        }
    }

    /// Atomic replace: temp file, fsync, rename. The file names chats, so
    /// it is owner-only (0600), like the spool it sits in by default.
    pub fn save(&self, path: &Path) -> Result<(), WatchError> {
        let io = |source| WatchError::State { path: path.display().to_string(), source };
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            private_fs::create_dir_all(parent).map_err(io)?;
        }
        let temp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| WatchError::StateFormat { path: path.display().to_string(), source })?;
        let mut file = private_fs::open_for_write(&temp, true).map_err(io)?;
        private_fs::tighten(&temp).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&temp, path).map_err(io)
    }
}

/// What one scan did, for tests and logs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanReport {
    pub posted: Vec<String>,
    pub already_posted: Vec<String>,
    pub failed: Vec<String>,
    /// Files seen for the first time or still changing.
    pub settling: usize,
}

type Fingerprint = (u64, Option<SystemTime>);

pub struct Watcher {
    config: WatchConfig,
    sender: SenderHandle,
    metrics: Arc<Metrics>,
    state: WatchState,
    /// Size and mtime at the previous scan, per path.
    last_seen: HashMap<PathBuf, Fingerprint>,
    /// Files that were posted, seen posted, or failed, at this fingerprint.
    settled: HashMap<PathBuf, Fingerprint>,
}

impl Watcher {
    pub fn new(config: WatchConfig, sender: SenderHandle, metrics: Arc<Metrics>) -> Result<Self, WatchError> {
        let state = WatchState::load(&config.state_file)?;
        Ok(Self { config, sender, metrics, state, last_seen: HashMap::new(), settled: HashMap::new() })
    }

    pub fn state(&self) -> &WatchState {
        &self.state
    }

    /// Scans until `shutdown` is cancelled.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<(), WatchError> {
        loop {
            let report = self.scan().await?;
            if !report.posted.is_empty() || !report.failed.is_empty() {
                tracing::info!(posted = report.posted.len(), failed = report.failed.len(), "watch scan");
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    pub async fn scan(&mut self) -> Result<ScanReport, WatchError> {
        let mut report = ScanReport::default();
        let candidates = match list_candidates(&self.config.dir) {
            Ok(candidates) => {
                self.metrics.set_source_healthy(true);
                candidates
            }
            Err(error) => {
                tracing::error!(%error, dir = %self.config.dir.display(), "cannot read the watched directory");
                self.metrics.set_source_healthy(false);
                return Ok(report);
            }
        };
        let mut seen_now = HashMap::new();
        for (path, fingerprint) in candidates {
            seen_now.insert(path.clone(), fingerprint);
            if self.settled.get(&path) == Some(&fingerprint) {
                continue;
            }
            if self.last_seen.get(&path) != Some(&fingerprint) {
                report.settling += 1;
                continue;
            }
            self.take(&path, &mut report).await?;
            self.settled.insert(path, fingerprint);
        }
        self.settled.retain(|path, _| seen_now.contains_key(path));
        self.last_seen = seen_now;
        Ok(report)
    }

    async fn take(&mut self, path: &Path, report: &mut ScanReport) -> Result<(), WatchError> {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = match tokio::fs::read(path).await {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, file = %name, "cannot read a dropped file");
                report.failed.push(name);
                return Ok(());
            }
        };
        let hash = hex::encode(Sha256::digest(&bytes));
        if self.state.posted.contains_key(&hash) {
            self.metrics.record_ignored(Source::Watch, "already_posted", 1);
            report.already_posted.push(name);
            return Ok(());
        }
        let settings = self.config.export.clone();
        let file_name = name.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            let export = read_export_bytes(&file_name, &bytes)?;
            let options = ExportOptions { chat_title: export.chat_title, utc_offset: settings.utc_offset, date_order: settings.date_order };
            parse_export(&export.text, &options)
        })
        .await;
        let parsed = match parsed {
            Ok(Ok(parsed)) => parsed,
            Ok(Err(error)) => {
                tracing::warn!(%error, file = %name, "dropped file is not a usable export");
                self.metrics.record_ignored(Source::Watch, "not_an_export", 1);
                report.failed.push(name);
                return Ok(());
            }
            Err(_) => return Ok(()),
        };
        let count = parsed.messages.len();
        self.metrics.record_received(Source::Watch, count);
        if let Err(error) = self.sender.submit_durable(parsed.messages).await {
            // Not recorded as posted, so the next scan after a change, or the
            // next start, tries again.
            tracing::error!(%error, file = %name, "messages of a dropped file could not be spooled");
            report.failed.push(name);
            return Ok(());
        }
        let posted_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        self.state.posted.insert(hash, PostedFile { file: name.clone(), messages: count, posted_at });
        let state = self.state.clone();
        let state_path = self.config.state_file.clone();
        tokio::task::spawn_blocking(move || state.save(&state_path)).await.unwrap_or(Ok(()))?;
        tracing::info!(file = %name, messages = count, "export spooled for sending");
        report.posted.push(name);
        Ok(())
    }
}

fn list_candidates(dir: &Path) -> std::io::Result<Vec<(PathBuf, Fingerprint)>> {
    let mut candidates = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_lowercase();
        let wanted = !name.starts_with('.') && (name.ends_with(".txt") || name.ends_with(".zip"));
        let Ok(metadata) = entry.metadata() else { continue };
        if wanted && metadata.is_file() {
            candidates.push((entry.path(), (metadata.len(), metadata.modified().ok())));
        }
    }
    candidates.sort();
    Ok(candidates)
}
