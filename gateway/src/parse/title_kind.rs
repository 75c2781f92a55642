//! What kind of line a cleaned title is: a product (`Samsung A54`), a variant
//! of the previous one (`128GB`, `8/256`, `6x9`), a description or spec line
//! (`Core i5, 8GB RAM`, `Very clean`), or a heading before a colon. The
//! assembler uses these to attach lines to the right item.

use super::lexicon;
use super::text;

/// `Offer ends 31/12: Blender` and `PS4 games: FIFA 23` name the product after
/// the colon; the text before it is a heading. Spec-only tails stay attached.
pub(crate) fn after_heading(title: String) -> String {
    match title.rsplit_once(": ") {
        Some((_, tail)) if tail.chars().any(char::is_alphabetic) && !is_variant(tail) && !is_detail(tail) => {
            text::clean_title(tail).unwrap_or(title)
        }
        _ => title,
    }
}

fn words(title: &str) -> impl Iterator<Item = &str> {
    title.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

fn is_spec_token(word: &str) -> bool {
    let lowered = Lowered::of(word);
    let lower = lowered.as_str();
    let digits = lower.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && digits < lower.len() && lexicon::is_unit(&lower[digits..]))
        || (digits == 0 && lexicon::is_spec_word(lower))
        || is_dimensions(lower)
        || (lower.starts_with('i') && lower.len() == 2 && lower.as_bytes()[1].is_ascii_digit())
}

/// `5x8`, `6x6`: a size.
fn is_dimensions(word: &str) -> bool {
    word.split_once('x').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit())
    })
}

/// A title that is only a variant of the previous one: `128GB`, `8/256`, `6x9`.
pub(crate) fn is_variant(title: &str) -> bool {
    let mut measured = title.as_bytes().windows(3).any(|w| w[0].is_ascii_digit() && w[1] == b'/' && w[2].is_ascii_digit());
    let mut any = false;
    for word in words(title) {
        any = true;
        let lowered = Lowered::of(word);
        let lower = lowered.as_str();
        let number = lower.bytes().all(|b| b.is_ascii_digit());
        let unit_bearing = !number && lower.bytes().next().is_some_and(|b| b.is_ascii_digit()) && is_spec_token(lower);
        if !(number || unit_bearing || matches!(lower, "ram" | "rom" | "ssd" | "hdd" | "storage" | "gb" | "tb")) {
            return false;
        }
        measured |= unit_bearing;
    }
    any && measured
}

/// The title without its trailing spec words: `iPhone 12 64GB` → `iPhone 12`.
pub(crate) fn base_of(title: &str) -> String {
    let mut kept: Vec<&str> = title.split(' ').collect();
    while kept.len() > 1 && kept.last().is_some_and(|w| is_spec_token(w.trim_matches(|c: char| !c.is_alphanumeric()))) {
        kept.pop();
    }
    let base = kept.join(" ");
    if base.chars().any(char::is_alphabetic) { base } else { title.to_string() }
}

/// Names something sellable: a brand or product word, or a model token.
/// Bare numbers (`TOP 5`, `2024`), ordinals and times (`1st`, `8am`) are not.
pub(crate) fn is_product_like(title: &str) -> bool {
    words(title).any(|w| lexicon::is_brand_word(Lowered::of(w).as_str())) || has_model_token(title)
}

/// Holds a model token: letters and digits in one word (`A54`, `G8`, `128GB`),
/// or a number after a product-line word (`Spark 10`, `iPhone 12`).
pub(crate) fn has_model_token(title: &str) -> bool {
    let mut after_line_word = false;
    for word in words(title) {
        let lowered = Lowered::of(word);
        let lower = lowered.as_str();
        let digits = lower.bytes().filter(u8::is_ascii_digit).count();
        if digits > 0 && digits < lower.len() && !is_ordinal_or_time(lower) {
            return true;
        }
        if digits == lower.len() && after_line_word {
            return true;
        }
        after_line_word = lexicon::is_model_line_word(lower) || lexicon::is_brand_word(lower);
    }
    false
}

/// Names a brand or product family (`Ramtons`, `Galaxy`), not only a kind of
/// product (`phone`, `shoes`, `sofa`).
pub(crate) fn names_brand(title: &str) -> bool {
    words(title).any(|w| {
        let lowered = Lowered::of(w);
        let lower = lowered.as_str();
        lexicon::is_brand_word(lower) && !lexicon::is_product_noun(lower)
    })
}

/// `1st`, `22nd`, `8am`, `10pm`, `24hrs`: a date or time, not a model.
fn is_ordinal_or_time(word: &str) -> bool {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&word[digits..], "st" | "nd" | "rd" | "th" | "am" | "pm" | "hrs" | "hr" | "h" | "pc" | "pcs")
}

/// A description or spec line (`Core i5, 8GB RAM`, `Very clean`), not a title.
pub(crate) fn is_detail(title: &str) -> bool {
    let mut total = 0;
    let mut spec = 0;
    for (i, word) in words(title).enumerate() {
        let lowered = Lowered::of(word);
        let lower = lowered.as_str();
        if lexicon::is_brand_word(lower) {
            return false;
        }
        if i == 0 && lexicon::is_description_starter(lower) {
            return true;
        }
        total += 1;
        if word.bytes().any(|b| b.is_ascii_digit()) || lexicon::is_spec_word(lower) {
            spec += 1;
        }
    }
    total > 0 && spec * 10 >= total * 6
}

/// A word ASCII-lowercased for the word lists, as `to_ascii_lowercase` gives
/// it but without a heap copy: the word itself when it holds no capital, a
/// copy on the stack when it fits there.
enum Lowered<'w> {
    Same(&'w str),
    Stack([u8; 32], usize),
    Heap(String),
}

impl<'w> Lowered<'w> {
    fn of(word: &'w str) -> Self {
        if !word.bytes().any(|b| b.is_ascii_uppercase()) {
            return Self::Same(word);
        }
        let mut buffer = [0u8; 32];
        match buffer.get_mut(..word.len()) {
            Some(slot) => {
                slot.copy_from_slice(word.as_bytes());
                slot.make_ascii_lowercase();
                Self::Stack(buffer, word.len())
            }
            None => Self::Heap(word.to_ascii_lowercase()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Self::Same(word) => word,
            // ASCII-lowercasing valid UTF-8 leaves it valid, so this never falls back.
            Self::Stack(buffer, len) => std::str::from_utf8(&buffer[..*len]).unwrap_or_default(),
            Self::Heap(word) => word,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowered_words_are_what_to_ascii_lowercase_gives() {
        let long = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij";
        for word in ["", "sofa", "Samsung", "A54", "64GB", "CAFÉ", "Ünï", long, &long[..32], "x\u{212A}"] {
            assert_eq!(Lowered::of(word).as_str(), word.to_ascii_lowercase(), "{word:?}");
        }
    }
}
