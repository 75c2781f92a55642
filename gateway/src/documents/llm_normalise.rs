//! LLM normalisation of messy sheets (`prefer_llm`, off by default): the rows the rules could not
//! read, and the rows of sheets without a header, go to the OpenAI-compatible `chat/completions`
//! server QC uses (`QC_PROVIDER=openai`, `QC_BASE_URL`, `QC_MODEL`, `QC_API_KEY`), in batches of
//! [`BATCH_ROWS`]. Each answered row is checked by [`super::llm_rows`]; what passes joins the
//! import as an offer of that row and its error goes, what does not keeps its rule-based error
//! with the reason added.
//!
//! A server that is down (no answer, a timeout, 429 or 5xx) is [`Unavailable`]: the import job
//! runs again later through the queue's retries, and nothing is applied meanwhile, so an outage
//! never turns the offers only the LLM could read into removed ones. A server that answers but
//! refuses the request (another 4xx) or gives an unusable answer leaves that batch's rows as the
//! rules read them, with one sheet-wide note. The API key and the server's URL never appear in a
//! note or a log.

use std::{collections::{HashMap, HashSet}, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{
    Extracted,
    llm_rows::{BATCH_ROWS, check_item, parse_answer, request},
    rows::UnreadRow,
};
use crate::{domain::RowError, parse::retry_after::retry_after_value, telemetry::http_error_text};

/// Largest answer read.
const MAX_ANSWER_BYTES: usize = 1_048_576;

/// The provider, owned here and filled in by `config` from QC's OpenAI-compatible settings.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub base_url: Url,
    pub model: String,
    pub api_key: Option<SecretString>,
    /// One request's limit (`DOCUMENT_LLM_TIMEOUT_SECONDS`, default 60 s).
    pub timeout: Duration,
    /// The most unread rows one import sends (`DOCUMENT_LLM_MAX_ROWS`, default 1,000).
    pub max_rows: usize,
}

impl LlmSettings {
    pub const DEFAULT_MAX_ROWS: usize = 1_000;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
}

/// The LLM server did not answer; the import should run again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Unavailable {
    pub reason: String,
    /// The server's `Retry-After`, if it gave one.
    pub retry_after: Option<Duration>,
}

/// Calls the provider for an import.
pub struct Normaliser {
    http: reqwest::Client,
    settings: LlmSettings,
}

impl Normaliser {
    pub fn new(settings: LlmSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(settings.timeout).build()?;
        Ok(Self { http, settings })
    }

    pub fn max_rows(&self) -> usize {
        self.settings.max_rows
    }

    /// Sends `extracted`'s unread rows and merges what comes back; returns how many rows the LLM
    /// read.
    pub async fn normalise(&self, extracted: &mut Extracted, default_currency: &str) -> Result<usize, Unavailable> {
        let unread = std::mem::take(&mut extracted.unread);
        let mut read = Vec::new();
        let mut refused: HashMap<(Option<String>, u32), String> = HashMap::new();
        let (mut failed_rows, mut last_failure) = (0usize, None);
        for batch in unread.chunks(BATCH_ROWS) {
            let items = match self.call(batch).await? {
                Ok(items) => items,
                Err(reason) => {
                    failed_rows += batch.len();
                    last_failure = Some(reason);
                    continue;
                }
            };
            let mut answered = HashSet::new();
            for item in &items {
                match check_item(item, batch, &mut answered, default_currency) {
                    Ok((_, row)) => read.push(row),
                    Err((Some(index), reason)) => {
                        let row = &batch[index];
                        refused.insert((row.sheet.clone(), row.row), reason);
                    }
                    Err((None, _)) => {}
                }
            }
        }
        let places: HashSet<(Option<String>, u32)> = read.iter().map(|r| (r.sheet.clone(), r.row)).collect();
        extracted.errors.retain(|e| !e.row.is_some_and(|row| places.contains(&(e.sheet.clone(), row))));
        for error in &mut extracted.errors {
            if let Some(row) = error.row
                && let Some(reason) = refused.get(&(error.sheet.clone(), row))
            {
                error.reason = format!("{}; {reason}", error.reason);
            }
        }
        if let Some(reason) = last_failure {
            extracted.errors.push(note(format!(
                "the LLM could not read {failed_rows} of {} rows ({reason}); the rule-based reading of them stands",
                unread.len()
            )));
        }
        if extracted.unread_dropped > 0 {
            extracted.errors.push(note(format!(
                "{} more unreadable rows were not sent to the LLM (DOCUMENT_LLM_MAX_ROWS is {})",
                extracted.unread_dropped, self.settings.max_rows
            )));
        }
        let count = read.len();
        extracted.rows.extend(read);
        Ok(count)
    }

    /// One batch: its answered items, or why the answer cannot be used; `Unavailable` when the
    /// server did not answer.
    async fn call(&self, batch: &[UnreadRow]) -> Result<Result<Vec<serde_json::Value>, String>, Unavailable> {
        let (url, body) = match request(&self.settings.base_url, &self.settings.model, batch) {
            Ok(built) => built,
            Err(reason) => return Ok(Err(reason)),
        };
        let mut http = self.http.post(url).json(&body);
        if let Some(key) = &self.settings.api_key {
            http = http.bearer_auth(key.expose_secret());
        }
        let unreachable = |e: reqwest::Error| Unavailable {
            reason: format!("the LLM server did not answer: {}", http_error_text(e)),
            retry_after: None,
        };
        let mut response = http.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        if status == 429 || status >= 500 {
            return Err(Unavailable {
                reason: format!("the LLM server answered HTTP {status}"),
                retry_after: retry_after_value(response.headers().get(reqwest::header::RETRY_AFTER).map(|v| v.as_bytes())),
            });
        }
        if !(200..300).contains(&status) {
            return Ok(Err(format!("the LLM server refused the request (HTTP {status})")));
        }
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if answer.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Ok(Err(format!("the LLM answer is over {MAX_ANSWER_BYTES} bytes")));
            }
            answer.extend_from_slice(&chunk);
        }
        Ok(parse_answer(&answer).map_err(|e| e.to_string()))
    }
}

fn note(reason: String) -> RowError {
    RowError { row: None, sheet: None, reason }
}
