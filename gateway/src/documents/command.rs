//! Outside programs a processor runs (`tesseract`, `pdftoppm`): a child process in its own
//! scratch directory, its output to files there, killed when it outlasts its timeout. Blocking:
//! processors run under `spawn_blocking`. A program that is not installed is told apart from one
//! that fails, so the caller can say `ocr_unavailable` instead of a parse failure.

use std::{
    fs::File,
    io::ErrorKind,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// Why a program gave no output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Not on `PATH` (or not at the configured path), or not executable.
    #[error("{program:?} is not installed or cannot be run ({reason})")]
    Missing { program: String, reason: String },
    #[error("{program:?} ran longer than {seconds} s and was stopped")]
    TimedOut { program: String, seconds: u64 },
    #[error("{program:?} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("the scratch directory failed: {0}")]
    Scratch(String),
}

/// A scratch directory under the system's temp dir, removed with everything in it on drop.
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub fn new() -> Result<Self, CommandError> {
        let path = std::env::temp_dir().join(format!("soko-document-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&path).map_err(|e| CommandError::Scratch(e.to_string()))?;
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` to `name` inside the directory and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, CommandError> {
        let path = self.path.join(name);
        std::fs::write(&path, bytes).map_err(|e| CommandError::Scratch(e.to_string()))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The most of a program's stderr kept in an error.
const STDERR_KEPT: usize = 300;

/// Runs `program args…` in `scratch`, one thread of OpenMP at most (tesseract would take every
/// core), and returns its stdout; kills it after `timeout`.
pub fn run(
    program: &str,
    args: &[&std::ffi::OsStr],
    scratch: &Scratch,
    timeout: Duration,
) -> Result<Vec<u8>, CommandError> {
    let stdout_path = scratch.path().join("stdout.txt");
    let stderr_path = scratch.path().join("stderr.txt");
    let scratch_error = |e: std::io::Error| CommandError::Scratch(e.to_string());
    let stdout = File::create(&stdout_path).map_err(scratch_error)?;
    let stderr = File::create(&stderr_path).map_err(scratch_error)?;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(scratch.path())
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|error| match error.kind() {
            ErrorKind::NotFound | ErrorKind::PermissionDenied => CommandError::Missing {
                program: program.to_owned(),
                reason: error.to_string(),
            },
            _ => CommandError::Failed {
                program: program.to_owned(),
                status: "did not start".to_owned(),
                stderr: error.to_string(),
            },
        })?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CommandError::TimedOut {
                    program: program.to_owned(),
                    seconds: timeout.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(error) => {
                let _ = child.kill();
                return Err(CommandError::Failed {
                    program: program.to_owned(),
                    status: "lost".to_owned(),
                    stderr: error.to_string(),
                });
            }
        }
    };
    if !status.success() {
        let stderr = std::fs::read(&stderr_path).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr);
        let stderr = stderr.trim();
        let cut = stderr
            .char_indices()
            .map(|(i, _)| i)
            .take_while(|i| *i <= STDERR_KEPT)
            .last()
            .unwrap_or(0);
        let stderr = if stderr.len() > STDERR_KEPT {
            &stderr[..cut]
        } else {
            stderr
        };
        return Err(CommandError::Failed {
            program: program.to_owned(),
            status: status.to_string(),
            stderr: stderr.to_owned(),
        });
    }
    std::fs::read(&stdout_path).map_err(scratch_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&'static str]) -> Vec<&'static std::ffi::OsStr> {
        list.iter().map(|a| std::ffi::OsStr::new(*a)).collect()
    }

    #[test]
    fn stdout_is_returned_and_the_scratch_dir_removed() {
        let scratch = Scratch::new().expect("scratch");
        let dir = scratch.path().to_owned();
        let out = run(
            "sh",
            &args(&["-c", "printf 'hello'"]),
            &scratch,
            Duration::from_secs(10),
        );
        assert_eq!(out.as_deref(), Ok(b"hello".as_slice()));
        drop(scratch);
        assert!(!dir.exists());
    }

    #[test]
    fn a_missing_program_a_failure_and_a_timeout_are_told_apart() {
        let scratch = Scratch::new().expect("scratch");
        let missing = run(
            "/nonexistent/tesseract",
            &[],
            &scratch,
            Duration::from_secs(5),
        );
        assert!(
            matches!(missing, Err(CommandError::Missing { .. })),
            "{missing:?}"
        );
        let failed = run(
            "sh",
            &args(&["-c", "echo broken >&2; exit 3"]),
            &scratch,
            Duration::from_secs(5),
        );
        assert!(
            matches!(&failed, Err(CommandError::Failed { stderr, .. }) if stderr == "broken"),
            "{failed:?}"
        );
        let started = Instant::now();
        let slow = run("sleep", &args(&["5"]), &scratch, Duration::from_millis(200));
        assert!(
            matches!(slow, Err(CommandError::TimedOut { .. })),
            "{slow:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
