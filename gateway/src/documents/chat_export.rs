//! The chat-export processor (`processor = "chat_export"`, alias `whatsapp_text`): a WhatsApp
//! export (`.txt`, or a `.zip` holding `_chat.txt`) read by the `chat-export` crate, the same
//! parser the collector sends exports with. Each message goes through the offer extraction live
//! messages get ([`extract_offers`], with the vendor's default currency), and each priced offer
//! becomes a [`DocumentRow`]: its row is the message's 1-based number in the export, its source
//! text the offer's span of the message. A product offered in several messages keeps the latest
//! message's offer (the current price); the earlier ones are history, not errors. Senders (phone
//! numbers) are never copied into rows, errors or logs.

use std::collections::HashSet;

use chat_export::{ExportError, ExportOptions, ExportedMessage};

use super::{DocumentInput, Extracted, ProcessError, Processor};
use crate::{
    domain::DocumentRow,
    parse::{ExtractContext, OfferDraft, extract_offers},
};

/// The name stored with the document.
pub const NAME: &str = "chat_export";

/// The names a client may give as `processor` (the CLI spells it `whatsapp_text`).
pub fn is_named(requested: &str) -> bool {
    matches!(requested, NAME | "whatsapp_text")
}

/// The processor.
pub struct ChatExport;

impl Processor for ChatExport {
    fn name(&self) -> &'static str {
        NAME
    }

    fn read(&self, input: &DocumentInput<'_>) -> Result<Extracted, ProcessError> {
        // The magic bytes tell a zip from text; the file name only titles the chat, which no
        // offer keeps.
        let export =
            chat_export::read_export_bytes_capped("upload", input.bytes, input.max_expanded_bytes)
                .map_err(refused)?;
        let options = ExportOptions {
            chat_title: export.chat_title,
            // Timestamps are not kept: the offset changes nothing a row holds.
            utc_offset: chrono::FixedOffset::east_opt(0)
                .ok_or_else(|| ProcessError::Corrupt("no UTC offset".into()))?,
            date_order: None,
        };
        let parsed = chat_export::parse_export(&export.text, &options).map_err(refused)?;
        Ok(offers_of(&parsed.messages, input.default_currency))
    }
}

/// Bytes [`text_is_export`] decodes: an export's first lines are far shorter.
const HEAD_BYTES: usize = 64 * 1024;

/// Whether text bytes start like an export (a message header among the first lines); cheap, for
/// choosing the processor of a `.txt`.
pub fn text_is_export(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(HEAD_BYTES)];
    chat_export::looks_like_export(&String::from_utf8_lossy(head))
}

/// Whether a zip's directory names a chat (`_chat.txt`, else any `.txt`); nothing is inflated.
pub fn zip_holds_chat(bytes: &[u8]) -> bool {
    chat_export::zip_holds_chat(bytes)
}

/// The upload check: the media type when `bytes` can be an export (a zip naming a chat, or text
/// that starts like one), else why not. Nothing is inflated here; the expansion cap is the
/// import's to enforce.
pub fn probe(bytes: &[u8]) -> Result<&'static str, ProcessError> {
    if bytes.starts_with(super::format::ZIP) {
        return if zip_holds_chat(bytes) {
            Ok("application/zip")
        } else {
            Err(ProcessError::Corrupt(
                "the zip holds no _chat.txt or other .txt chat export".into(),
            ))
        };
    }
    if text_is_export(bytes) {
        Ok("text/plain")
    } else {
        Err(refused(ExportError::NoMessages))
    }
}

/// Why an export cannot be read, without its file name or any of its text.
fn refused(error: ExportError) -> ProcessError {
    match error {
        ExportError::TooLarge { limit, .. } => ProcessError::TooLarge(limit),
        ExportError::Zip { reason, .. } => {
            ProcessError::Corrupt(format!("the zip holds no readable chat export: {reason}"))
        }
        ExportError::NoMessages => {
            ProcessError::Corrupt("no WhatsApp message lines found (is this a chat export?)".into())
        }
        ExportError::Io { source, .. } => ProcessError::Corrupt(source.to_string()),
    }
}

/// The rows of an export's messages: every priced offer, the latest per row key.
pub fn offers_of(messages: &[ExportedMessage], default_currency: &str) -> Extracted {
    let context = ExtractContext { default_currency };
    let mut rows = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let Some(text) = message.text.as_deref() else {
            continue;
        };
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        rows.extend(
            extract_offers(text, &context)
                .into_iter()
                .filter_map(|draft| row_of(number, text, draft)),
        );
    }
    let mut seen = HashSet::new();
    let mut latest: Vec<DocumentRow> = rows
        .into_iter()
        .rev()
        .filter(|row| seen.insert(row.row_key()))
        .collect();
    latest.reverse();
    Extracted {
        rows: latest,
        ..Extracted::default()
    }
}

/// One offer as a document row; `None` without a price (a price list's rows all have one).
fn row_of(number: u32, text: &str, draft: OfferDraft) -> Option<DocumentRow> {
    let price = draft.price?.normalize().to_string();
    let title = draft.title.trim().to_owned();
    if title.is_empty() {
        return None;
    }
    let product_key = if draft.product_key.is_empty() {
        title.to_lowercase()
    } else {
        draft.product_key
    };
    Some(DocumentRow {
        sheet: None,
        row: number,
        sku: None,
        title,
        product_key,
        price,
        currency: draft.currency,
        quantity: draft.quantity.map(|q| i32::try_from(q).unwrap_or(i32::MAX)),
        condition: draft.condition.map(|c| c.as_str().to_owned()),
        source_text: text.get(draft.span).unwrap_or(text).trim().to_owned(),
    })
}

#[cfg(test)]
#[path = "chat_export_tests.rs"]
mod tests;
