//! Who decides: the deterministic rules, or a vision LLM over HTTP (Gemini `generateContent` or an
//! OpenAI-compatible `chat/completions`), whose request bodies and answer parsing live in
//! [`super::llm`]. HTTP outcomes are classified for the queue: 429 (with its `Retry-After`), 5xx,
//! timeouts, and 401/403 (a key problem an operator must fix, so the job ends in the dead-letter
//! queue rather than flagging every product) are retried; any other 4xx flags the product.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::image_check::{ImageAssessment, ImageLimits};
use super::llm::{self, LlmAnswer, LlmOptions, QcImage};
use super::rules::{BannedWords, QcThresholds, decide_with};
use super::title_check::assess_title;
use super::{Decision, QcDecision, QcProviderKind};
use crate::pipeline::media::settings::{LlmEndpoint, QcSettings};
use crate::telemetry::http_error_text;

/// Largest provider response read.
const MAX_RESPONSE_BYTES: usize = 1_048_576;

pub struct RulesProvider {
    pub banned: BannedWords,
    pub thresholds: QcThresholds,
}

impl RulesProvider {
    pub fn decide(&self, image: &ImageAssessment, title: &str, description: &str) -> QcDecision {
        let banned = self.banned.find(&format!("{title}\n{description}"));
        decide_with(image, &assess_title(title), banned.as_ref(), &self.thresholds)
    }
}

pub struct LlmProvider {
    kind: QcProviderKind,
    endpoint: LlmEndpoint,
    http: reqwest::Client,
    options: LlmOptions,
}

pub enum QcEngine {
    Rules,
    Llm(LlmProvider),
}

/// One provider call that did not produce an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlmCallError {
    /// Try again later (429, 5xx, network, bad key): through the queue.
    Retry { status: Option<u16>, retry_after: Option<Duration>, error: String },
}

impl LlmProvider {
    pub fn new(kind: QcProviderKind, endpoint: LlmEndpoint, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self { kind, endpoint, http, options: LlmOptions::default() })
    }

    pub fn model(&self) -> &str {
        &self.endpoint.model
    }

    pub fn name(&self) -> &'static str {
        match self.kind {
            QcProviderKind::Gemini => "gemini",
            _ => "openai",
        }
    }

    /// Sends one review. A parsed answer, even a flagged one, is `Ok`.
    pub async fn review(&self, title: &str, description: &str, image: QcImage<'_>) -> Result<LlmAnswer, LlmCallError> {
        let base = &self.endpoint.base_url;
        let model = &self.endpoint.model;
        let built = match self.kind {
            QcProviderKind::Gemini => llm::gemini_request(base, model, title, description, image, &self.options),
            _ => llm::openai_request(base, model, title, description, image, &self.options),
        };
        let request = match built {
            Ok(request) => request,
            Err(error) => return Ok(flagged(format!("QC request could not be built: {error}"))),
        };
        let mut http = self.http.post(request.url).json(&request.body);
        if let Some(key) = &self.endpoint.api_key {
            http = match self.kind {
                QcProviderKind::Gemini => http.header("x-goog-api-key", key.expose_secret()),
                _ => http.bearer_auth(key.expose_secret()),
            };
        }
        let retry = |status: Option<u16>, retry_after: Option<Duration>, error: String| LlmCallError::Retry { status, retry_after, error };
        let mut response = http.send().await.map_err(|e| retry(None, None, format!("QC provider unreachable: {}", http_error_text(e))))?;
        let status = response.status().as_u16();
        let retry_after = crate::pipeline::hydrate::status::retry_after_of(response.headers());
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_RESPONSE_BYTES => body.extend_from_slice(&chunk),
                Ok(Some(_)) => return Ok(flagged(format!("QC provider answer over {MAX_RESPONSE_BYTES} bytes"))),
                Ok(None) => break,
                Err(e) => return Err(retry(Some(status), None, format!("QC provider answer cut off: {}", http_error_text(e)))),
            }
        }
        match status {
            200..=299 => Ok(match self.kind {
                QcProviderKind::Gemini => llm::parse_gemini_response(&body),
                _ => llm::parse_openai_response(&body),
            }),
            429 => Err(retry(Some(429), retry_after, "QC provider rate limit (429)".to_owned())),
            401 | 403 => Err(retry(Some(status), None, format!("QC provider refused the key (HTTP {status}): check the API key"))),
            408 | 500..=599 => Err(retry(Some(status), retry_after, format!("QC provider failed (HTTP {status})"))),
            _ => Ok(flagged(format!("QC provider rejected the request (HTTP {status})"))),
        }
    }
}

fn flagged(reason: String) -> LlmAnswer {
    LlmAnswer { decision: QcDecision::new(Decision::Flagged, 0.0, reason), kind: llm::LlmAnswerKind::Malformed }
}

/// Builds the engine the settings ask for.
pub fn engine(settings: &QcSettings, timeout: Duration) -> Result<QcEngine, reqwest::Error> {
    let endpoint = match settings.provider {
        QcProviderKind::Rules => None,
        QcProviderKind::Gemini => settings.gemini.clone(),
        QcProviderKind::OpenAi => settings.openai.clone(),
    };
    match endpoint {
        Some(endpoint) => Ok(QcEngine::Llm(LlmProvider::new(settings.provider, endpoint, timeout)?)),
        None => Ok(QcEngine::Rules),
    }
}

/// The rules with the default banned words plus `QC_BANNED_WORDS`.
pub fn rules(settings: &QcSettings) -> RulesProvider {
    let banned = match &settings.extra_banned_words {
        Some(extra) => BannedWords::default().extended_with(BannedWords::parse_list(extra)),
        None => BannedWords::default(),
    };
    RulesProvider { banned, thresholds: QcThresholds::default() }
}

/// The image measured under the default decode limits (CPU-bound: call from a blocking thread).
pub fn assess(bytes: &[u8]) -> ImageAssessment {
    super::image_check::assess_image(bytes, &ImageLimits::default())
}

#[cfg(test)]
#[path = "provider_tests.rs"]
mod tests;
