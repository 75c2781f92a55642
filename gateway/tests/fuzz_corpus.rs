//! Replays the fuzz corpus on stable: every file under `fuzz/corpus/<target>/`
//! and `fuzz/regressions/<target>/` goes through the same property check the
//! cargo-fuzz target runs (`fuzz/props/`, included here by path, so the
//! properties are written once). A crash the fuzzer found becomes a file in
//! `fuzz/regressions/<target>/` and fails here until it is fixed.

#![allow(clippy::unwrap_used)]

#[path = "../../fuzz/props/mod.rs"]
mod props;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted; none when the folder is absent.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.is_file() && !p.ends_with(".gitkeep")).collect();
    files.sort();
    files
}

/// Runs `check` over every file, collecting the ones whose properties fail.
fn replay(target: &str, check: fn(&[u8]), files: &[PathBuf]) -> Vec<String> {
    let mut failures = Vec::new();
    for file in files {
        let data = std::fs::read(file).unwrap();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{target}: {}: {message}", file.display()));
        }
    }
    failures
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (target, _) in props::TARGETS {
        let seeds = inputs("corpus", target).len();
        assert!(seeds >= 10, "fuzz/corpus/{target} holds {seeds} seeds; keep at least 10");
        assert!(fuzz_dir().join("fuzz_targets").join(format!("{target}.rs")).is_file(), "no fuzz target for {target}");
    }
}

#[test]
fn the_corpus_and_the_regressions_keep_their_properties() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (target, check) in props::TARGETS {
        let mut files = inputs("corpus", target);
        files.extend(inputs("regressions", target));
        replayed += files.len();
        failures.extend(replay(target, *check, &files));
    }
    assert!(replayed > 0, "no corpus found under {}", fuzz_dir().display());
    assert!(failures.is_empty(), "{} of {replayed} inputs break a property:\n{}", failures.len(), failures.join("\n"));
}

/// The replay itself can fail: a check that panics on an input is reported with the file.
#[test]
fn a_broken_property_is_reported_with_its_file() {
    fn always_fails(_: &[u8]) {
        panic!("property broken");
    }
    let files = inputs("corpus", "price");
    let failures = replay("price", always_fails, &files[..1]);
    assert_eq!(failures.len(), 1);
    assert!(failures[0].contains("property broken") && failures[0].contains("corpus/price"), "{}", failures[0]);
}
