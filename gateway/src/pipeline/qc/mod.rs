//! Quality control. A product is approved, rejected or flagged,
//! with a confidence and a reason, either by deterministic rules (`QC_PROVIDER=rules`, the
//! default: [`image_check`], [`title_check`], [`rules`]) or by a vision LLM whose request
//! bodies and answer parsing live in [`llm`] (Gemini `generateContent` or any
//! OpenAI-compatible `chat/completions`) called by [`provider`]. The [`stage`] fetches the image,
//! decides, caches LLM answers 24 h by [`llm::content_hash`] ([`cache`]), and writes the `qc_*` event.

pub mod cache;
pub mod image_check;
pub mod llm;
pub mod provider;
pub mod rules;
pub mod stage;
pub mod title_check;

pub use image_check::{ImageAssessment, ImageLimits, assess_image};
pub use llm::{LlmAnswer, LlmAnswerKind, QcImage, content_hash, image_sha256};
pub use rules::{BannedMatch, BannedWords, QcThresholds, decide, decide_with};
pub use title_check::{SpamSignal, TitleAssessment, assess_title};

use serde::{Deserialize, Serialize};

/// The outcome of quality control. Only `Approved` products are persisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approved,
    Rejected,
    Flagged,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Flagged => "flagged",
        }
    }

    /// The `catalog_sync_logs` event type for this outcome (seed 000).
    pub fn event_type(self) -> &'static str {
        match self {
            Self::Approved => "qc_approved",
            Self::Rejected => "qc_rejected",
            Self::Flagged => "qc_flagged",
        }
    }

    /// Case-insensitive parse of `approved`/`rejected`/`flagged`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "approved" => Some(Self::Approved),
            "rejected" => Some(Self::Rejected),
            "flagged" => Some(Self::Flagged),
            _ => None,
        }
    }
}

/// A decision with its confidence (0.0..=1.0) and a short human-readable reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QcDecision {
    pub decision: Decision,
    pub confidence: f32,
    pub reason: String,
}

impl QcDecision {
    pub fn new(decision: Decision, confidence: f32, reason: impl Into<String>) -> Self {
        let confidence = if confidence.is_finite() { confidence.clamp(0.0, 1.0) } else { 0.0 };
        Self { decision, confidence, reason: reason.into() }
    }
}

/// Which provider decides (`QC_PROVIDER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QcProviderKind {
    #[default]
    Rules,
    Gemini,
    OpenAi,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown QC_PROVIDER {0:?}: expected rules, gemini or openai")]
pub struct UnknownQcProvider(pub String);

impl std::str::FromStr for QcProviderKind {
    type Err = UnknownQcProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "rules" => Ok(Self::Rules),
            "gemini" => Ok(Self::Gemini),
            "openai" | "openai-compatible" => Ok(Self::OpenAi),
            _ => Err(UnknownQcProvider(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_names_and_events() {
        for d in [Decision::Approved, Decision::Rejected, Decision::Flagged] {
            assert_eq!(Decision::parse(&d.as_str().to_uppercase()), Some(d));
            assert_eq!(d.event_type(), format!("qc_{}", d.as_str()));
            assert_eq!(serde_json::to_string(&d).expect("serialise"), format!("\"{}\"", d.as_str()));
        }
        assert_eq!(Decision::parse("maybe"), None);
    }

    #[test]
    fn confidence_is_clamped() {
        assert_eq!(QcDecision::new(Decision::Approved, 1.7, "x").confidence, 1.0);
        assert_eq!(QcDecision::new(Decision::Approved, -1.0, "x").confidence, 0.0);
        assert_eq!(QcDecision::new(Decision::Approved, f32::NAN, "x").confidence, 0.0);
    }

    #[test]
    fn provider_kind_parses() {
        assert_eq!("".parse(), Ok(QcProviderKind::Rules));
        assert_eq!(" Gemini ".parse(), Ok(QcProviderKind::Gemini));
        assert_eq!("openai".parse(), Ok(QcProviderKind::OpenAi));
        assert!("claude".parse::<QcProviderKind>().is_err());
    }
}
