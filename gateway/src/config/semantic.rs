//! Semantic search settings from the environment (issue 15): `SEARCH_TEXT_MODEL_DIR`,
//! `SEARCH_INDEX_DIR`, `SEARCH_INDEX_POLL_MS`, `SEARCH_EXACT_BELOW`, `SEARCH_INDEX_EF_SEARCH`,
//! `SEARCH_INDEX_CODE_CANDIDATES`, `SEARCH_EMBED_BATCH`, with
//! `ORT_DYLIB_PATH` (the table is in `docs/CONFIGURATION.md`).

use std::path::PathBuf;
use std::time::Duration;

use super::env::Env;
use crate::semantic::{SemanticSettings, text_model};

pub(super) fn semantic_settings(env: &mut Env<'_>) -> SemanticSettings {
    let text_model_dir = env.get("SEARCH_TEXT_MODEL_DIR").filter(|v| !v.trim().is_empty()).map(PathBuf::from);
    let ort_dylib_path = env.get("ORT_DYLIB_PATH").map(PathBuf::from);
    if let Some(dir) = &text_model_dir {
        if !dir.join(text_model::MODEL_FILE).is_file() || !dir.join(text_model::TOKENIZER_FILE).is_file() {
            env.problem(format!(
                "SEARCH_TEXT_MODEL_DIR={} must hold {} and {} (scripts/export_minilm.py writes them)",
                dir.display(),
                text_model::MODEL_FILE,
                text_model::TOKENIZER_FILE
            ));
        }
        match &ort_dylib_path {
            None => env.problem("ORT_DYLIB_PATH is required with SEARCH_TEXT_MODEL_DIR: the path of libonnxruntime.so".to_owned()),
            Some(path) if !path.is_file() => env.problem(format!("ORT_DYLIB_PATH={} is not a file", path.display())),
            Some(_) => {}
        }
    }
    let index_dir = env.get("SEARCH_INDEX_DIR").filter(|v| !v.trim().is_empty()).map(PathBuf::from);
    if let Some(dir) = index_dir.as_ref().filter(|d| d.exists() && !d.is_dir()) {
        env.problem(format!("SEARCH_INDEX_DIR={} is not a directory", dir.display()));
    }
    let defaults = SemanticSettings::default();
    let mut settings = SemanticSettings {
        text_model_dir,
        index_dir,
        ort_dylib_path,
        poll: Duration::from_millis(env.parse("SEARCH_INDEX_POLL_MS", defaults.poll.as_millis() as u64, 10..=1_000)),
        exact_below: env.parse("SEARCH_EXACT_BELOW", defaults.exact_below, 0..=100_000_000),
        ef_search: env.parse("SEARCH_INDEX_EF_SEARCH", defaults.ef_search, 16..=4_096),
        code_candidates: env.parse("SEARCH_INDEX_CODE_CANDIDATES", defaults.code_candidates, 0..=1_000_000),
        embed_batch: env.parse("SEARCH_EMBED_BATCH", defaults.embed_batch, 1..=1_024),
        concurrency: 0,
    };
    // Jobs in flight fill the model's batches: as many as a batch holds.
    settings.concurrency = settings.embed_batch;
    settings
}
