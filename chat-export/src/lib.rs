//! WhatsApp chat exports (`.txt` or `.zip`) → neutral message records
//! ([`ExportedMessage`]), shared by the collector (which turns them into
//! ingest batches) and the gateway (which reads them as vendor documents).
//!
//! The parse runs in two passes: the first finds header lines and groups
//! continuation lines under them; the second, knowing the file's date order
//! and clock, builds timestamps and messages. Exports carry local time with
//! no zone, so the caller supplies the UTC offset (the CLI default is
//! Nairobi, +03:00).
//!
//! Every message gets a stable synthetic `message_id`: a hash of the chat,
//! the local timestamp, the sender, the text and how many identical messages
//! came before it in the file. Posting the same export twice therefore posts
//! the same ids, and the gateway deduplicates them.

mod body;
mod dates;
mod file;
mod header;

pub use body::{Body, Sender, classify_body, normalise_sender, split_sender};
pub use dates::{DateOrder, OrderEvidence, detect_date_order};
pub use file::{
    ExportText, MAX_EXPORT_BYTES, chat_title_from_file_name, looks_like_export, read_export_bytes, read_export_bytes_capped,
    read_export_file, zip_holds_chat,
};
pub use header::{HeaderLine, Layout, parse_header};

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, TimeZone};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{file} is not a readable WhatsApp export zip: {reason}")]
    Zip { file: String, reason: String },
    /// The zip's entries (as declared, or the chat as it inflates) pass the caller's cap.
    #[error("{file} expands past the limit of {limit} bytes")]
    TooLarge { file: String, limit: u64 },
    #[error("no WhatsApp message lines found (is this a chat export?)")]
    NoMessages,
}

#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub chat_title: String,
    pub utc_offset: FixedOffset,
    /// Forces the date order instead of detecting it.
    pub date_order: Option<DateOrder>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub lines: usize,
    pub messages: usize,
    pub media_placeholders: usize,
    pub system_lines_skipped: usize,
    pub deleted_skipped: usize,
    /// Lines shaped like a header whose date cannot exist under the file's
    /// date order; kept as continuation text.
    pub impossible_dates: usize,
    /// Lines before the first header (not part of any message).
    pub preamble_lines: usize,
    pub layout: Option<Layout>,
    pub date_order: Option<DateOrder>,
    pub date_order_evidence: Option<OrderEvidence>,
    pub twelve_hour_clock: bool,
}

/// One message of an export, in no consumer's wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedMessage {
    pub chat_title: String,
    /// The time the phone showed, with no zone.
    pub local_time: NaiveDateTime,
    /// `local_time` at the caller's UTC offset; `None` when that instant does not exist.
    pub timestamp: Option<DateTime<FixedOffset>>,
    /// Digits with a leading `+` when the export had one (the gateway normalises it to E.164),
    /// when the sender is a phone number.
    pub sender: Option<String>,
    /// When the sender is a contact name.
    pub sender_name: Option<String>,
    /// Stable synthetic id, `wa-export-` and 32 hex digits.
    pub message_id: String,
    /// The text, or a media item's caption.
    pub text: Option<String>,
    pub media: Vec<ExportedMedia>,
}

impl ExportedMessage {
    /// The timestamp as RFC 3339 to the second (`2023-12-31T21:41:00+03:00`, `…Z` at UTC).
    pub fn timestamp_rfc3339(&self) -> Option<String> {
        self.timestamp.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

/// A media placeholder or attached file: only its caption survives an export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportedMedia {
    pub caption: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedExport {
    pub messages: Vec<ExportedMessage>,
    pub report: ExportReport,
}

struct Entry<'a> {
    header: HeaderLine<'a>,
    line: &'a str,
    continuation: Vec<&'a str>,
}

pub fn parse_export(text: &str, options: &ExportOptions) -> Result<ParsedExport, ExportError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut report = ExportReport::default();
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for line in text.lines() {
        report.lines += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        match parse_header(line) {
            Some(header) => entries.push(Entry { header, line, continuation: Vec::new() }),
            None => match entries.last_mut() {
                Some(entry) => entry.continuation.push(line),
                None => report.preamble_lines += 1,
            },
        }
    }
    if entries.is_empty() {
        return Err(ExportError::NoMessages);
    }

    report.twelve_hour_clock = entries.iter().any(|entry| entry.header.time.meridiem.is_some());
    let ios = entries.iter().filter(|entry| entry.header.layout == Layout::Ios).count();
    report.layout = Some(if ios * 2 > entries.len() { Layout::Ios } else { Layout::Android });
    let (order, evidence) = match options.date_order {
        Some(order) => (order, OrderEvidence::Override),
        None => {
            let raw_dates: Vec<_> = entries.iter().map(|entry| entry.header.date).collect();
            detect_date_order(&raw_dates, report.twelve_hour_clock)
        }
    };
    report.date_order = Some(order);
    report.date_order_evidence = Some(evidence);

    let mut builder = MessageBuilder::new(options);
    // The message being assembled: its header data and its text lines.
    let mut pending: Option<(NaiveDateTime, &str, Vec<&str>)> = None;
    for entry in entries {
        match dates::to_datetime(entry.header.date, entry.header.time, order) {
            Some(at) => {
                if let Some((at, rest, lines)) = pending.take() {
                    builder.push(at, rest, &lines, &mut report);
                }
                pending = Some((at, entry.header.rest, entry.continuation));
            }
            None => {
                report.impossible_dates += 1;
                match pending.as_mut() {
                    Some((_, _, lines)) => {
                        lines.push(entry.line);
                        lines.extend(entry.continuation);
                    }
                    None => report.preamble_lines += 1 + entry.continuation.len(),
                }
            }
        }
    }
    if let Some((at, rest, lines)) = pending.take() {
        builder.push(at, rest, &lines, &mut report);
    }
    report.messages = builder.messages.len();
    Ok(ParsedExport { messages: builder.messages, report })
}

struct MessageBuilder<'o> {
    options: &'o ExportOptions,
    messages: Vec<ExportedMessage>,
    occurrences: HashMap<String, u32>,
}

impl<'o> MessageBuilder<'o> {
    fn new(options: &'o ExportOptions) -> Self {
        Self { options, messages: Vec::new(), occurrences: HashMap::new() }
    }

    fn push(&mut self, at: NaiveDateTime, rest: &str, continuation: &[&str], report: &mut ExportReport) {
        let Some((raw_sender, first_text)) = split_sender(rest) else {
            report.system_lines_skipped += 1;
            return;
        };
        let mut text = first_text.to_owned();
        for line in continuation {
            text.push('\n');
            text.push_str(line);
        }
        let (text, media) = match classify_body(&text) {
            Body::Text(text) => (Some(text), Vec::new()),
            Body::Media { caption } => {
                report.media_placeholders += 1;
                (caption.clone(), vec![ExportedMedia { caption }])
            }
            Body::Deleted => {
                report.deleted_skipped += 1;
                return;
            }
            Body::System => {
                report.system_lines_skipped += 1;
                return;
            }
        };
        let Some(sender) = normalise_sender(raw_sender) else {
            report.system_lines_skipped += 1;
            return;
        };
        let (sender, sender_name, sender_key) = match sender {
            Sender::Phone(phone) => (Some(phone.clone()), None, phone),
            Sender::Name(name) => (None, Some(name.clone()), name),
        };
        let local = at.format("%Y-%m-%dT%H:%M:%S").to_string();
        let content = text.as_deref().unwrap_or(if media.is_empty() { "" } else { "<media>" });
        let identity = [self.options.chat_title.as_str(), &local, &sender_key, content].join("\u{1F}");
        let occurrence = self.occurrences.entry(identity.clone()).or_insert(0);
        let message_id = synthetic_message_id(&identity, *occurrence);
        *occurrence += 1;
        let timestamp = self.options.utc_offset.from_local_datetime(&at).single();
        self.messages.push(ExportedMessage {
            chat_title: self.options.chat_title.clone(),
            local_time: at,
            timestamp,
            sender,
            sender_name,
            message_id,
            text,
            media,
        });
    }
}

fn synthetic_message_id(identity: &str, occurrence: u32) -> String {
    let mut hasher = Sha256::new();
    hasher.update(identity.as_bytes());
    hasher.update(b"\x1F");
    hasher.update(occurrence.to_string().as_bytes());
    let digest = hex::encode(hasher.finalize());
    format!("wa-export-{}", &digest[..32])
}

/// Parses `+03:00`, `-05:30`, `+0300`, `Z` or `UTC`.
pub fn parse_utc_offset(text: &str) -> Result<FixedOffset, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0).ok_or_else(|| "zero offset".to_owned());
    }
    let invalid = || format!("invalid UTC offset {text:?}: expected +HH:MM, e.g. +03:00");
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(invalid()),
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| invalid())?;
    let minutes: i32 = digits[2..].parse().map_err(|_| invalid())?;
    if hours > 14 || minutes > 59 {
        return Err(invalid());
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(invalid)
}

#[cfg(test)]
mod tests;
