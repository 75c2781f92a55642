//! `DOCUMENT_MAX_EXPANDED_BYTES` for every zip-based upload (`.xlsx`, `.ods`, a chat export
//! `.zip`): the sizes its central directory declares are added up before anything is inflated,
//! at upload (refused with 413) and again when the import reads it. A zip that lies about its
//! sizes is still bounded for chat exports, whose reader counts what it inflates
//! (`chat_export::read_export_bytes_capped`); calamine reads workbook entries itself, so for those
//! the declared sizes are the check.

use std::io::Cursor;

use super::ProcessError;

/// What the central directory says the entries expand to; `None` when it is not a readable zip
/// (the format check reports that).
pub fn declared_size(bytes: &[u8]) -> Option<u64> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut total = 0u64;
    for index in 0..archive.len() {
        total = total.saturating_add(archive.by_index_raw(index).ok()?.size());
    }
    Some(total)
}

/// Refuses a zip whose entries declare more than `limit` bytes; anything that is not a zip passes.
pub fn check(bytes: &[u8], limit: u64) -> Result<(), ProcessError> {
    if !bytes.starts_with(super::format::ZIP) {
        return Ok(());
    }
    match declared_size(bytes) {
        Some(total) if total > limit => Err(ProcessError::TooLarge(limit)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(entries: &[(&str, usize)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, size) in entries {
            writer.start_file(*name, options).expect("entry");
            writer.write_all(&vec![b'a'; *size]).expect("bytes");
        }
        writer.finish().expect("zip").into_inner()
    }

    #[test]
    fn the_declared_sizes_add_up_and_the_limit_is_inclusive() {
        let bytes = zip_of(&[("xl/a.xml", 600_000), ("xl/b.xml", 400_000)]);
        assert!(bytes.len() < 20_000, "well compressed");
        assert_eq!(declared_size(&bytes), Some(1_000_000));
        assert_eq!(check(&bytes, 1_000_000), Ok(()));
        assert_eq!(check(&bytes, 999_999), Err(ProcessError::TooLarge(999_999)));
    }

    #[test]
    fn what_is_not_a_zip_is_left_to_the_format_check() {
        assert_eq!(check(b"SKU,Price\nA,1\n", 1), Ok(()));
        assert_eq!(check(b"PK\x03\x04 truncated", 1), Ok(()));
    }
}
