//! Owner-only files and directories. Spooled batches hold message text and
//! phone numbers, so the spool directory (and `rejected/`) is 0700 and every
//! file the collector writes there is 0600, whatever the umask says. A
//! directory or file found looser than that (made by hand, or by an older
//! collector) is tightened when the spool opens.
//!
//! On other platforms these fall back to the plain `std::fs` calls.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// `create_dir_all`, with every directory it creates made 0700.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(dir)
}

/// A new file that nobody else can read: fails if `path` exists.
pub fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options.open(path)
}

/// Opens `path` for writing (created 0600 if missing), truncating it when
/// `truncate` is set. An existing file keeps its mode: pair with [`tighten`].
pub fn open_for_write(path: &Path, truncate: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options.open(path)
}

/// Removes group and other permissions from `path` (a file gets 0600 at
/// most, a directory 0700). Returns the old mode when it changed anything.
#[cfg(unix)]
pub fn tighten(path: &Path) -> io::Result<Option<u32>> {
    let metadata = std::fs::symlink_metadata(path)?;
    if metadata.file_type().is_symlink() {
        return Ok(None);
    }
    let mode = metadata.permissions().mode() & 0o7777;
    let wanted = if metadata.is_dir() { mode & DIR_MODE } else { mode & FILE_MODE };
    if wanted == mode {
        return Ok(None);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
    Ok(Some(mode))
}

#[cfg(not(unix))]
pub fn tighten(_path: &Path) -> io::Result<Option<u32>> {
    Ok(None)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
    }

    #[test]
    fn new_files_and_dirs_are_owner_only_and_loose_ones_are_tightened() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let nested = root.path().join("a/b");
        create_dir_all(&nested).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((mode(&root.path().join("a")), mode(&nested)), (0o700, 0o700));
        let file = nested.join("f");
        drop(create_new(&file).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(mode(&file), 0o600);
        assert!(create_new(&file).is_err(), "create_new never reuses a file");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&nested, std::fs::Permissions::from_mode(0o755)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tighten(&file).ok(), Some(Some(0o664)));
        assert_eq!(tighten(&nested).ok(), Some(Some(0o755)));
        assert_eq!((mode(&file), mode(&nested)), (0o600, 0o700));
        assert_eq!(tighten(&file).ok(), Some(None), "nothing left to change");
        // Stricter modes are kept, not widened.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tighten(&file).ok(), Some(None));
        assert_eq!(mode(&file), 0o400);
    }
}
