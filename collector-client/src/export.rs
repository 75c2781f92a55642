//! WhatsApp chat exports (`.txt` or `.zip`) → ingest messages: the parser is the `chat-export`
//! crate (shared with the gateway, which reads exports as vendor documents); this module maps
//! its neutral records onto the batch's [`IngestMessage`]. Exports carry local time with no
//! zone, so the caller supplies the UTC offset (the CLI default is Nairobi, +03:00).

pub use chat_export::{
    Body, DateOrder, ExportError, ExportOptions, ExportReport, ExportText, ExportedMessage, HeaderLine, Layout,
    MAX_EXPORT_BYTES, OrderEvidence, Sender, chat_title_from_file_name, classify_body, detect_date_order,
    normalise_sender, parse_header, parse_utc_offset, read_export_bytes, read_export_file, split_sender,
};

use crate::message::{IngestMedia, IngestMessage};

/// An export as the collector sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedExport {
    pub messages: Vec<IngestMessage>,
    pub report: ExportReport,
}

/// Parses an export's text into ingest messages (see [`chat_export::parse_export`]).
pub fn parse_export(text: &str, options: &ExportOptions) -> Result<ParsedExport, ExportError> {
    let parsed = chat_export::parse_export(text, options)?;
    Ok(ParsedExport { messages: parsed.messages.into_iter().map(ingest_message).collect(), report: parsed.report })
}

/// One exported message on the wire: no chat id (the gateway derives it from the title), the
/// synthetic id, the timestamp in RFC 3339, media as caption-only placeholders.
pub fn ingest_message(message: ExportedMessage) -> IngestMessage {
    let timestamp = message.timestamp_rfc3339().map(serde_json::Value::String);
    IngestMessage {
        chat_id: None,
        chat_title: message.chat_title,
        sender: message.sender,
        sender_name: message.sender_name,
        message_id: Some(message.message_id),
        timestamp,
        text: message.text,
        media: message.media.into_iter().map(|media| IngestMedia { caption: media.caption, ..IngestMedia::default() }).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_messages_map_onto_the_batch_schema() {
        let export = "31/12/2023, 21:41 - +254 712 345 678: IMG-1.jpg (file attached)\nTecno Spark 10 14k\n";
        let options = ExportOptions {
            chat_title: "Nairobi Phones".into(),
            utc_offset: parse_utc_offset("+03:00").unwrap_or_else(|e| panic!("{e}")),
            date_order: None,
        };
        let parsed = parse_export(export, &options).unwrap_or_else(|e| panic!("{e}"));
        let message = &parsed.messages[0];
        let wire = serde_json::to_value(message).unwrap_or_else(|e| panic!("{e}"));
        let id = message.message_id.clone().unwrap_or_default();
        assert!(id.starts_with("wa-export-") && id.len() == "wa-export-".len() + 32, "{id}");
        assert_eq!(
            wire,
            serde_json::json!({
                "chat_title": "Nairobi Phones",
                "sender": "+254712345678",
                "message_id": id,
                "timestamp": "2023-12-31T21:41:00+03:00",
                "text": "Tecno Spark 10 14k",
                "media": [{"caption": "Tecno Spark 10 14k"}],
            })
        );
    }
}
