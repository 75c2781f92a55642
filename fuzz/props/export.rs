//! The chat-export reader and parser (`collector_client::export`): a `.txt`
//! or `.zip` export either is refused with a typed error or parses
//! deterministically into messages with distinct, stable ids, the chat's
//! title and an RFC 3339 timestamp, and a report that counts them.

use collector_client::export::{ExportOptions, parse_export, parse_utc_offset, read_export_bytes};

pub fn check(data: &[u8]) {
    let file_name = if data.starts_with(b"PK") { "WhatsApp Chat with Fuzz.zip" } else { "WhatsApp Chat with Fuzz.txt" };
    let Ok(export) = read_export_bytes(file_name, data) else { return };
    assert_eq!(export.chat_title, "Fuzz", "the title comes from the file name");
    let utc_offset = parse_utc_offset("+03:00").unwrap_or_else(|e| unreachable!("Nairobi offset: {e}"));
    let options = ExportOptions { chat_title: export.chat_title.clone(), utc_offset, date_order: None };
    let Ok(parsed) = parse_export(&export.text, &options) else { return };
    assert_eq!(parse_export(&export.text, &options).ok().as_ref(), Some(&parsed), "parsing is deterministic");
    assert_eq!(parsed.report.messages, parsed.messages.len(), "the report counts the messages");
    let mut ids = std::collections::HashSet::new();
    for message in &parsed.messages {
        assert_eq!(message.chat_title, options.chat_title);
        let id = message.message_id.as_deref().unwrap_or_else(|| panic!("every message has an id"));
        assert!(ids.insert(id.to_owned()), "message ids are distinct: {id}");
        let timestamp = message.timestamp.as_ref().and_then(|t| t.as_str()).unwrap_or_else(|| panic!("a timestamp"));
        assert!(chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(), "timestamp {timestamp:?} is RFC 3339");
        assert!(message.text.is_some() || !message.media.is_empty(), "a message carries text or media");
    }
}
