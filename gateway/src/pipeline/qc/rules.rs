//! The deterministic QC provider (`QC_PROVIDER=rules`): a banned-words list and the
//! decision that combines the image, title and banned-word checks.
//!
//! Rules, first match wins (strongest evidence first):
//! | check | outcome | confidence |
//! |---|---|---|
//! | image does not decode | rejected | 0.99 |
//! | image smaller than `min_side`×`min_side` (200) | rejected | 0.95 |
//! | image blank (luma variance < 16) | rejected | 0.90 |
//! | a banned term in the title or description | rejected | 0.90 |
//! | no title | rejected | 0.90 |
//! | title is only a URL, a phone or "DM for price" | rejected | 0.80 |
//! | Laplacian variance < `blur_reject_below` (6.0) | rejected | 0.80 |
//! | Laplacian variance < `blur_flag_below` (20.0) | flagged | 0.60 |
//! | other title spam (caps, !!!, emoji, repeats) | flagged | 0.60 |
//! | otherwise | approved | 0.90 |
//!
//! Why these blur thresholds (Laplacian variance at the 512 px analysis size, measured with
//! `examples/blur_calibrate.rs` in the scratch crate):
//! - there is a floor: 8-bit rounding alone gives about 1.7, and JPEG blocking adds 1-3, so a
//!   featureless or fully smeared image scores 1-5 whatever its content was;
//! - a sharp picture with few edges (flat shapes on a plain background, the hardest honest
//!   case for this measure, like a studio product shot) scores 800-3000; noise scores 10^4+;
//! - the same shapes at 320 px after a Gaussian blur of σ = 2 / 3 / 4 px score 32 / 10 / 4.9
//!   (as JPEG): σ = 2 is soft but usable, σ = 4 shows no edges at all.
//!
//! So below 6 is "extremely blurred" (rejected: nothing left above the floor), 6-20 is
//! flagged for a person to look at, and the spec's "not extremely blurred" is met without
//! rejecting soft but genuine photos.

use super::image_check::ImageAssessment;
use super::title_check::TitleAssessment;
use super::{Decision, QcDecision};

/// The default banned terms, matched as whole words (case-insensitive; a single-word term also
/// matches its plural in -s/-es). Modest on purpose: words with common innocent uses
/// ("pistol" in "water pistol", "weed" in "weed killer", "bullet") are left out, because a
/// match rejects. Extend with `QC_BANNED_WORDS`.
pub const DEFAULT_BANNED_TERMS: &[&str] = &[
    // weapons
    "firearm", "handgun", "ammunition", "ammo", "ak-47", "ak47", "grenade", "glock", "silencer",
    // drugs
    "cocaine", "heroin", "methamphetamine", "crystal meth", "mdma", "ecstasy pills", "marijuana",
    "cannabis", "bhang", "kush",
    // counterfeits and forged documents
    "counterfeit", "replica", "first copy", "master copy", "fake id", "fake passport",
    "fake documents", "fake currency",
];

/// A banned term found in a product's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannedMatch {
    pub term: String,
}

/// A list of banned terms, each a sequence of lower-case words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannedWords {
    terms: Vec<(String, Vec<String>)>,
}

impl Default for BannedWords {
    fn default() -> Self {
        Self::new(DEFAULT_BANNED_TERMS.iter().copied())
    }
}

impl BannedWords {
    pub fn new<'a>(terms: impl IntoIterator<Item = &'a str>) -> Self {
        let terms = terms
            .into_iter()
            .filter_map(|t| {
                let words = words(t);
                (!words.is_empty()).then(|| (t.trim().to_lowercase(), words))
            })
            .collect();
        Self { terms }
    }

    /// Parses a comma- or newline-separated list (the `QC_BANNED_WORDS` format).
    pub fn parse_list(list: &str) -> Self {
        Self::new(list.split([',', '\n']))
    }

    /// This list plus `other`'s terms.
    pub fn extended_with(mut self, other: BannedWords) -> Self {
        self.terms.extend(other.terms);
        self
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The first term (in list order) that occurs in `text` as whole words.
    pub fn find(&self, text: &str) -> Option<BannedMatch> {
        let text_words = words(text);
        self.terms.iter().find_map(|(term, term_words)| {
            let hit = match term_words.as_slice() {
                [single] => text_words.iter().any(|w| is_word_or_plural(w, single)),
                phrase => text_words.windows(phrase.len()).any(|window| window == phrase),
            };
            hit.then(|| BannedMatch { term: term.clone() })
        })
    }
}

fn is_word_or_plural(word: &str, term: &str) -> bool {
    word == term
        || word.strip_prefix(term).is_some_and(|rest| rest == "s" || rest == "es")
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Thresholds of the rules provider.
#[derive(Debug, Clone, PartialEq)]
pub struct QcThresholds {
    pub min_side: u32,
    pub blur_reject_below: f64,
    pub blur_flag_below: f64,
}

impl Default for QcThresholds {
    fn default() -> Self {
        Self { min_side: 200, blur_reject_below: 6.0, blur_flag_below: 20.0 }
    }
}

/// [`decide_with`] at the default thresholds.
pub fn decide(image: &ImageAssessment, title: &TitleAssessment, banned: Option<&BannedMatch>) -> QcDecision {
    decide_with(image, title, banned, &QcThresholds::default())
}

/// Combines the checks into one decision; see the module table for the order.
pub fn decide_with(
    image: &ImageAssessment,
    title: &TitleAssessment,
    banned: Option<&BannedMatch>,
    limits: &QcThresholds,
) -> QcDecision {
    use Decision::{Approved, Flagged, Rejected};
    if !image.decodes {
        let why = image.decode_error.as_deref().unwrap_or("image does not decode");
        return QcDecision::new(Rejected, 0.99, why);
    }
    if image.width < limits.min_side || image.height < limits.min_side {
        let why = format!("image too small: {}x{} (minimum {m}x{m})", image.width, image.height, m = limits.min_side);
        return QcDecision::new(Rejected, 0.95, why);
    }
    if image.is_blank {
        return QcDecision::new(Rejected, 0.9, format!("image is blank (luma variance {:.1})", image.luma_variance));
    }
    if let Some(hit) = banned {
        return QcDecision::new(Rejected, 0.9, format!("banned term: {}", hit.term));
    }
    if !title.present {
        return QcDecision::new(Rejected, 0.9, "title missing");
    }
    if title.is_placeholder() {
        return QcDecision::new(Rejected, 0.8, format!("title is {}", spam_list(title, true)));
    }
    if image.blur_variance < limits.blur_reject_below {
        let why = format!("image extremely blurred (Laplacian variance {:.2} < {})", image.blur_variance, limits.blur_reject_below);
        return QcDecision::new(Rejected, 0.8, why);
    }
    if image.blur_variance < limits.blur_flag_below {
        let why = format!("image looks blurred (Laplacian variance {:.2} < {})", image.blur_variance, limits.blur_flag_below);
        return QcDecision::new(Flagged, 0.6, why);
    }
    if title.is_spam() {
        return QcDecision::new(Flagged, 0.6, format!("title looks like spam: {}", spam_list(title, false)));
    }
    QcDecision::new(Approved, 0.9, "passed image, title and banned-word checks")
}

fn spam_list(title: &TitleAssessment, placeholders: bool) -> String {
    title
        .spam
        .iter()
        .filter(|s| s.is_placeholder() == placeholders)
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
