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

/// `file_name` decides the format (`.zip` or text) and the chat title. The chat inside a zip is
/// read up to [`MAX_EXPORT_BYTES`]; other entries (media) are never inflated.
pub fn read_export_bytes(file_name: &str, bytes: &[u8]) -> Result<ExportText, ExportError> {
    read(file_name, bytes, None)
}

/// [`read_export_bytes`] for untrusted uploads: a zip is refused with
/// [`ExportError::TooLarge`] when its entries, as its directory declares them, add up to more
/// than `max_expanded_bytes`, or when the chat inflates past it (a declared size can lie).
pub fn read_export_bytes_capped(file_name: &str, bytes: &[u8], max_expanded_bytes: u64) -> Result<ExportText, ExportError> {
    read(file_name, bytes, Some(max_expanded_bytes))
}

fn is_zip(file_name: &str, bytes: &[u8]) -> bool {
    file_name.to_ascii_lowercase().ends_with(".zip") || bytes.starts_with(b"PK\x03\x04")
}

fn read(file_name: &str, bytes: &[u8], cap: Option<u64>) -> Result<ExportText, ExportError> {
    let chat_title = chat_title_from_file_name(file_name);
    let raw = if is_zip(file_name, bytes) { read_chat_from_zip(file_name, bytes, cap)? } else { bytes.to_vec() };
    Ok(ExportText { text: decode(&raw), chat_title })
}

/// The chat's entry: `_chat.txt` anywhere, else the first `.txt` outside `__MACOSX`.
fn chat_entry(names: &[String]) -> Option<&String> {
    let is_text = |name: &&String| name.to_ascii_lowercase().ends_with(".txt") && !name.starts_with("__MACOSX");
    names.iter().find(|name| name.rsplit('/').next() == Some("_chat.txt")).or_else(|| names.iter().find(is_text))
}

fn entry_names<R: Read + std::io::Seek>(archive: &zip::ZipArchive<R>) -> Vec<String> {
    archive.file_names().filter_map(Result::ok).map(|name| name.into_owned()).collect()
}

/// Whether `bytes` is a zip holding a chat text (`_chat.txt` or another `.txt`), from its
/// directory alone: nothing is inflated.
pub fn zip_holds_chat(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(Cursor::new(bytes)).is_ok_and(|archive| chat_entry(&entry_names(&archive)).is_some())
}

/// Whether `text` reads as an export: one of its first non-blank lines starts a message.
/// Cheap (it looks at no more than [`LINES_LOOKED_AT`] lines), for choosing a reader.
pub fn looks_like_export(text: &str) -> bool {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    text.lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.trim().is_empty())
        .take(LINES_LOOKED_AT)
        .any(|line| super::parse_header(line).is_some())
}

/// Lines [`looks_like_export`] reads: an export's first line is a message header, but a
/// forwarded or trimmed one may start with a few stray lines.
pub const LINES_LOOKED_AT: usize = 20;

fn read_chat_from_zip(file_name: &str, bytes: &[u8], cap: Option<u64>) -> Result<Vec<u8>, ExportError> {
    let zip_error = |reason: String| ExportError::Zip { file: file_name.to_owned(), reason };
    let too_large = |limit: u64| ExportError::TooLarge { file: file_name.to_owned(), limit };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|error| zip_error(error.to_string()))?;
    if let Some(limit) = cap {
        let mut declared = 0u64;
        for index in 0..archive.len() {
            let entry = archive.by_index_raw(index).map_err(|error| zip_error(error.to_string()))?;
            declared = declared.saturating_add(entry.size());
            if declared > limit {
                return Err(too_large(limit));
            }
        }
    }
    let names = entry_names(&archive);
    let chosen = chat_entry(&names).ok_or_else(|| zip_error("no _chat.txt or .txt chat inside".into()))?.clone();
    let entry = archive.by_name(&chosen).map_err(|error| zip_error(error.to_string()))?;
    let limit = cap.map_or(MAX_EXPORT_BYTES, |cap| cap.min(MAX_EXPORT_BYTES));
    let mut raw = Vec::new();
    entry.take(limit + 1).read_to_end(&mut raw).map_err(|error| zip_error(error.to_string()))?;
    if raw.len() as u64 > limit {
        return Err(match cap {
            Some(_) => too_large(limit),
            None => zip_error(format!("chat text is larger than {MAX_EXPORT_BYTES} bytes")),
        });
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

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            writer.start_file(*name, options).unwrap_or_else(|e| panic!("{e}"));
            writer.write_all(bytes).unwrap_or_else(|e| panic!("{e}"));
        }
        writer.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
    }

    const CHAT: &[u8] = b"31/12/2023, 21:41 - Alice: iPhone 12 45k\n";

    #[test]
    fn the_chat_is_found_in_a_zip_by_its_directory() {
        let ios = zip(&[("IMG-0001.jpg", b"\xFF\xD8 jpeg"), ("_chat.txt", CHAT)]);
        assert!(zip_holds_chat(&ios));
        let export = read_export_bytes("WhatsApp Chat - Deals.zip", &ios).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((export.chat_title.as_str(), export.text.as_bytes()), ("Deals", CHAT));
        let android = zip(&[("__MACOSX/x.txt", b"junk"), ("WhatsApp Chat with Deals.txt", CHAT)]);
        let export = read_export_bytes_capped("upload", &android, 1024).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(export.text.as_bytes(), CHAT);
        assert!(!zip_holds_chat(&zip(&[("xl/workbook.xml", b"<workbook/>")])));
    }

    #[test]
    fn a_capped_read_refuses_a_zip_that_expands_past_the_cap() {
        let zeros = vec![0u8; 2 * 1024 * 1024];
        let bomb = zip(&[("_chat.txt", CHAT), ("video.mp4", &zeros)]);
        assert!(bomb.len() < 64 * 1024, "zeros compress well: {} bytes", bomb.len());
        let refused = read_export_bytes_capped("bomb.zip", &bomb, 1024 * 1024);
        assert!(matches!(refused, Err(ExportError::TooLarge { limit: 1_048_576, .. })), "{refused:?}");
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("1048576 bytes"), "{message}");
        // Under a larger cap, and uncapped as the collector reads, the media is never inflated.
        assert!(read_export_bytes_capped("bomb.zip", &bomb, 4 * 1024 * 1024).is_ok());
        assert!(read_export_bytes("bomb.zip", &bomb).is_ok());
    }

    #[test]
    fn exports_are_recognised_by_their_first_lines() {
        assert!(looks_like_export("\u{FEFF}31/12/2023, 21:40 - Messages are encrypted.\r\n31/12/2023, 21:41 - A: hi\r\n"));
        assert!(looks_like_export("\n\nforwarded\n[31/12/2023, 21:41:05] Bob: x\n"));
        assert!(!looks_like_export("Item,Price\niPhone 12,45000\n"));
        let late = format!("{}31/12/2023, 21:41 - A: hi\n", "noise\n".repeat(LINES_LOOKED_AT));
        assert!(!looks_like_export(&late));
    }

    #[test]
    fn a_zip_without_a_chat_is_an_error() {
        assert!(matches!(read_export_bytes("x.zip", b"PK\x03\x04 not really"), Err(ExportError::Zip { .. })));
        assert!(!zip_holds_chat(b"PK\x03\x04 not really"));
    }
}
