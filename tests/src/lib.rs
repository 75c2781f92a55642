//! End-to-end support shared by the cross-binary tests in `tests/tests/`:
//! - `tools` finds the external programs (prometheus, promtool) and decides
//!   whether a missing one skips or fails the test;
//! - `prometheus` runs a private Prometheus server and queries its HTTP API;
//! - `dashboard` reads the Grafana dashboard and turns its panel queries
//!   into plain PromQL;
//! - `stack` starts a real gateway and a real collector and drives traffic.

pub mod dashboard;
pub mod prometheus;
pub mod stack;
pub mod tools;

use std::path::PathBuf;

/// The repository root (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
