//! Reads an export as people receive it: a `.txt`, or a `.zip` holding
//! `_chat.txt` (iOS) or `WhatsApp Chat with X.txt` (Android "with media"),
//! and names the chat after the file.

use super::ExportError;
use std::io::{Cursor, Read};
use std::path::Path;

/// Exports beyond this are not chats a phone produces; the cap also bounds
/// what a hostile zip can inflate to.
pub const MAX_EXPORT_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportText {
    pub text: String,
    /// Chat title taken from the file name.
    pub chat_title: String,
}

pub fn read_export_file(path: &Path) -> Result<ExportText, ExportError> {
    let bytes = std::fs::read(path).map_err(|source| ExportError::Io { path: path.display().to_string(), source })?;
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    read_export_bytes(&file_name, &bytes)
}

/// `file_name` decides the format (`.zip` or text) and the chat title.
pub fn read_export_bytes(file_name: &str, bytes: &[u8]) -> Result<ExportText, ExportError> {
    let chat_title = chat_title_from_file_name(file_name);
    let is_zip = file_name.to_ascii_lowercase().ends_with(".zip") || bytes.starts_with(b"PK\x03\x04");
    let raw = if is_zip { read_chat_from_zip(file_name, bytes)? } else { bytes.to_vec() };
    Ok(ExportText { text: decode(&raw), chat_title })
}

fn read_chat_from_zip(file_name: &str, bytes: &[u8]) -> Result<Vec<u8>, ExportError> {
    let zip_error = |reason: String| ExportError::Zip { file: file_name.to_owned(), reason };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|error| zip_error(error.to_string()))?;
    let names: Vec<String> = archive.file_names().filter_map(Result::ok).map(|name| name.into_owned()).collect();
    let is_text = |name: &&String| name.to_ascii_lowercase().ends_with(".txt") && !name.starts_with("__MACOSX");
    let chosen = names
        .iter()
        .find(|name| name.rsplit('/').next() == Some("_chat.txt"))
        .or_else(|| names.iter().find(is_text))
        .ok_or_else(|| zip_error("no _chat.txt or .txt chat inside".into()))?
        .clone();
    let entry = archive.by_name(&chosen).map_err(|error| zip_error(error.to_string()))?;
    let mut raw = Vec::new();
    entry.take(MAX_EXPORT_BYTES + 1).read_to_end(&mut raw).map_err(|error| zip_error(error.to_string()))?;
    if raw.len() as u64 > MAX_EXPORT_BYTES {
        return Err(zip_error(format!("chat text is larger than {MAX_EXPORT_BYTES} bytes")));
    }
    Ok(raw)
}

/// UTF-8 (with or without BOM); invalid bytes become U+FFFD rather than
/// failing the whole export.
fn decode(raw: &[u8]) -> String {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    String::from_utf8_lossy(raw).into_owned()
}

const TITLE_PREFIXES: [&str; 9] = [
    "whatsapp chat with ",
    "whatsapp chat - ",
    "whatsapp-chat mit ",
    "whatsapp chat mit ",
    "chat de whatsapp con ",
    "conversa do whatsapp com ",
    "discussion whatsapp avec ",
    "whatsapp-chat met ",
    "chat whatsapp con ",
];

/// `WhatsApp Chat with Nairobi Phones.txt` → `Nairobi Phones`;
/// `WhatsApp Chat - Mombasa Deals (2).zip` → `Mombasa Deals`; any other
/// name → its stem.
pub fn chat_title_from_file_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = match base.rfind('.') {
        Some(index) if index > 0 => &base[..index],
        _ => base,
    };
    let mut title = stem.trim();
    let lower = title.to_lowercase();
    for prefix in TITLE_PREFIXES {
        // Prefixes are ASCII, so byte offsets agree between `lower` and `title`.
        if lower.starts_with(prefix) && title.is_char_boundary(prefix.len()) {
            title = &title[prefix.len()..];
            break;
        }
    }
    let title = strip_copy_suffix(title.trim());
    if title.is_empty() { stem.trim().to_owned() } else { title.to_owned() }
}

/// Browsers and phones append ` (1)`, ` (2)` to repeated downloads.
fn strip_copy_suffix(title: &str) -> &str {
    if let Some(open) = title.rfind(" (")
        && title.ends_with(')')
        && title[open + 2..title.len() - 1].chars().all(|c| c.is_ascii_digit())
        && title.len() > open + 3
    {
        return title[..open].trim_end();
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_export_file_names() {
        let cases = [
            ("WhatsApp Chat with Nairobi Phones.txt", "Nairobi Phones"),
            ("/tmp/in/WhatsApp Chat with Nairobi Phones (1).txt", "Nairobi Phones"),
            ("WhatsApp Chat - Mombasa Electronics.zip", "Mombasa Electronics"),
            ("WhatsApp-Chat mit Handy Markt.txt", "Handy Markt"),
            ("Chat de WhatsApp con Teléfonos Centro.txt", "Teléfonos Centro"),
            ("vendor-dump.txt", "vendor-dump"),
            ("WhatsApp Chat with (2024).txt", "(2024)"),
            ("_chat.txt", "_chat"),
        ];
        for (file, title) in cases {
            assert_eq!(chat_title_from_file_name(file), title, "{file}");
        }
    }

    #[test]
    fn a_bom_is_dropped_and_bad_bytes_do_not_fail() {
        let text = read_export_bytes("x.txt", b"\xEF\xBB\xBFhello \xFF world").map(|export| export.text);
        assert_eq!(text.ok().as_deref(), Some("hello \u{FFFD} world"));
    }

    #[test]
    fn a_zip_without_a_chat_is_an_error() {
        assert!(matches!(read_export_bytes("x.zip", b"PK\x03\x04 not really"), Err(ExportError::Zip { .. })));
    }
}
