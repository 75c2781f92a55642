//! The dashboards proven against real programs, in one test binary:
//! - `alerts`: the alert rules pass `promtool check rules` and their unit
//!   tests, every alert has a case that fires and one that does not, and a
//!   runbook heading in docs/OPERATIONS.md;
//! - `panels`: a real Prometheus scrapes a real gateway and a real collector
//!   after a little traffic, and every panel query of the Grafana dashboard
//!   returns data, with the values that traffic implies where it implies one.

mod alerts;
mod panels;

use serde_yaml::Value as Yaml;
use soko_e2e::repo_root;
use std::path::{Path, PathBuf};

pub fn alerts_path() -> PathBuf {
    repo_root().join("dashboards/prometheus/alerts.yml")
}

pub fn alerts_test_path() -> PathBuf {
    repo_root().join("dashboards/prometheus/alerts_test.yml")
}

pub fn yaml(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|error| panic!("parse {}: {error}", path.display()))
}

pub fn seq(value: &Yaml) -> &[Yaml] {
    value.as_sequence().map(Vec::as_slice).unwrap_or_default()
}
