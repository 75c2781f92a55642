//! External programs the dashboard tests need. Debian's `prometheus`
//! package provides both; `scripts/setup-test-env.sh` installs it. When one
//! is missing the test skips loudly, or fails when `TEST_REQUIRE_PROMETHEUS=1`
//! (set by `.ci/run`), so CI can never pass by skipping.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The absolute path of `program` on `PATH`, if any.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn required() -> bool {
    std::env::var("TEST_REQUIRE_PROMETHEUS").is_ok_and(|value| value == "1")
}

/// Finds every program, or returns `None` after printing a SKIPPED banner;
/// panics instead when `TEST_REQUIRE_PROMETHEUS=1`.
pub fn require(test: &str, programs: &[&str]) -> Option<Vec<PathBuf>> {
    let found: Vec<Option<PathBuf>> = programs
        .iter()
        .map(|program| find_on_path(program))
        .collect();
    let missing: Vec<&str> = programs
        .iter()
        .zip(&found)
        .filter(|(_, path)| path.is_none())
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        return Some(found.into_iter().flatten().collect());
    }
    let message = format!(
        "{test}: {} not found on PATH. Install Debian's `prometheus` package (scripts/setup-test-env.sh does it when run as root).",
        missing.join(" and ")
    );
    if required() {
        panic!("{message} TEST_REQUIRE_PROMETHEUS=1 makes this a failure.");
    }
    // Written past the test harness's output capture, so `cargo test` shows
    // it even for a passing test (nextest keeps it in the test's output;
    // scripts/setup-test-env.sh warns up front too).
    let banner = format!(
        "\n======== SKIPPED ========\n{message}\nSet TEST_REQUIRE_PROMETHEUS=1 to make this a failure.\n=========================\n"
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), banner.as_bytes());
    None
}

/// Output of a finished command, with a readable failure message.
pub struct Finished {
    pub success: bool,
    pub output: String,
}

pub fn run(program: &Path, args: &[&str]) -> Finished {
    match Command::new(program).args(args).output() {
        Ok(output) => Finished {
            success: output.status.success(),
            output: format!(
                "$ {} {}\n{}{}",
                program.display(),
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        },
        Err(error) => Finished {
            success: false,
            output: format!("cannot run {}: {error}", program.display()),
        },
    }
}
