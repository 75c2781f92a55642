//! Stamps the build with its git commit for `soko_build_info{version,commit}`
//! on `/metrics`: `SOKO_BUILD_COMMIT` when set (image builds without `.git`),
//! else `git rev-parse --short=12 HEAD`, else "unknown" (a source tarball).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=SOKO_BUILD_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let commit = std::env::var("SOKO_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
            // Rebuild the stamp when HEAD moves: HEAD itself, and the branch it names.
            // (Only files that exist: a missing one would rerun this every build.)
            let watch = |path: Option<String>| {
                if let Some(path) = path.filter(|p| std::path::Path::new(p).is_file()) {
                    println!("cargo:rerun-if-changed={path}");
                }
            };
            watch(git(&[
                "rev-parse",
                "--path-format=absolute",
                "--git-path",
                "HEAD",
            ]));
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch(git(&[
                    "rev-parse",
                    "--path-format=absolute",
                    "--git-path",
                    &branch,
                ]));
            }
            watch(git(&[
                "rev-parse",
                "--path-format=absolute",
                "--git-path",
                "packed-refs",
            ]));
            Some(commit)
        });
    let commit: String = commit
        .unwrap_or_else(|| "unknown".to_owned())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .take(64)
        .collect();
    println!("cargo:rustc-env=SOKO_BUILD_COMMIT={commit}");
}
