//! `collector stdin`: one ingest message (issue #2's schema) per line.
//! Bad lines are reported by line number and skipped; their content is
//! never echoed, since message bodies are personal data.

use crate::message::IngestMessage;
use crate::metrics::{Metrics, Source};
use crate::sender::{SenderError, SenderHandle};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StdinReport {
    pub lines: usize,
    pub messages: usize,
    pub bad_lines: Vec<BadLine>,
}

#[derive(Debug, thiserror::Error)]
pub enum StdinError {
    #[error("reading stdin failed: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Sender(#[from] SenderError),
}

/// One line → a message; `Ok(None)` for blank lines.
pub fn parse_json_line(line: &str) -> Result<Option<IngestMessage>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    let mut deserializer = serde_json::Deserializer::from_str(line);
    let message: IngestMessage = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => format!("not valid JSON (column {})", inner.column()),
            // serde's own text can quote values (message bodies); only field
            // names and positions are reported.
            _ if inner.to_string().starts_with("missing field") => inner.to_string().split(" at line").next().unwrap_or("missing field").to_owned(),
            _ if path == "." => "not an ingest message object".to_owned(),
            _ => format!("field `{path}` has the wrong type"),
        }
    })?;
    deserializer.end().map_err(|error| format!("unexpected data after the message (column {})", error.column()))?;
    if message.chat_title.trim().is_empty() {
        return Err("chat_title is empty".to_owned());
    }
    Ok(Some(message))
}

/// Reads until EOF, submitting good lines and reporting bad ones through
/// `on_bad_line` as they are met.
pub async fn run_stdin<R: AsyncBufRead + Unpin>(
    reader: R,
    sender: &SenderHandle,
    metrics: &Metrics,
    mut on_bad_line: impl FnMut(&BadLine),
) -> Result<StdinReport, StdinError> {
    let mut report = StdinReport::default();
    let mut lines = reader.lines();
    while let Some(line) = lines.next_line().await? {
        report.lines += 1;
        match parse_json_line(&line) {
            Ok(Some(message)) => {
                report.messages += 1;
                metrics.record_received(Source::Stdin, 1);
                sender.submit(vec![message]).await?;
            }
            Ok(None) => {}
            Err(reason) => {
                let bad = BadLine { line: report.lines, reason };
                metrics.record_ignored(Source::Stdin, "invalid_line", 1);
                on_bad_line(&bad);
                report.bad_lines.push(bad);
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_blank_and_bad_lines() {
        let good = parse_json_line(r#"{"chat_title":"Smoke Chat","text":"Pixel 8 Pro - $750"}"#);
        assert_eq!(good.map(|m| m.and_then(|m| m.text)), Ok(Some("Pixel 8 Pro - $750".into())));
        assert_eq!(parse_json_line("   "), Ok(None));
        let cases = [
            (r#"{"chat_title":"x","text":"secret body""#, "not valid JSON"),
            (r#"{"text":"secret body"}"#, "missing field `chat_title`"),
            (r#"{"chat_title":"x","text":42}"#, "field `text` has the wrong type"),
            (r#"["secret body"]"#, "not an ingest message object"),
            (r#"{"chat_title":"  ","text":"a"}"#, "chat_title is empty"),
            (r#"{"chat_title":"x"} {"chat_title":"y"}"#, "unexpected data"),
        ];
        for (line, expected) in cases {
            let reason = parse_json_line(line).err().unwrap_or_default();
            assert!(reason.starts_with(expected), "{line}: {reason}");
            assert!(!reason.contains("secret body"), "content leaked: {reason}");
        }
    }
}
