//! The product key: a normalised title that groups one product's offers and
//! price history across vendors and spellings (`iPhone 12 64GB`, `IPHONE 12
//! 64 gb 🔥` and `Brand new iPhone 12, 64gigs` share `iphone 12 64gb`).

use super::text::{clean_title, collapse_whitespace, is_clean_title, is_settled_key, strip_decoration};

/// The key that groups one product's price history across vendors:
/// lowercase alphanumeric words, units joined to their number (`64 GB` and
/// `64gb` agree, `55"` is `55inch`), condition and filler removed.
///
/// Keys are fixed points: the key of a key is itself, so a key passed back in
/// (`/price-history/product/iphone 12 64gb`) finds the same product.
pub fn normalize_title_key(title: &str) -> String {
    // An extracted offer's title is already clean: cleaning it again would return it unchanged.
    if is_clean_title(title) {
        return key_of_clean_title(title);
    }
    match clean_title(title) {
        Some(cleaned) => key_of_clean_title(&cleaned),
        None => settle(words_key(&collapse_whitespace(&strip_decoration(title)))),
    }
}

fn key_of_clean_title(cleaned: &str) -> String {
    settle(words_key(cleaned))
}

fn settle(mut key: String) -> String {
    // Splitting on punctuation can expose words that cleaning strips
    // (`X#B` → `x b`); a few rounds settle every key.
    if is_settled_key(&key) {
        return key;
    }
    for _ in 0..4 {
        let next = clean_title(&key).map_or_else(|| key.clone(), |cleaned| words_key(&cleaned));
        if next == key {
            break;
        }
        key = next;
    }
    key
}

/// Lowercase words of a cleaned title, units joined to their numbers.
fn words_key(cleaned: &str) -> String {
    let lower = if cleaned.is_ascii() { cleaned.to_ascii_lowercase() } else { cleaned.to_lowercase() };
    let lower = if lower.contains([',', '.']) { join_number_separators(&lower) } else { lower };
    let mut key = String::with_capacity(lower.len() + 8);
    // The last word pushed is a bare number, so a following unit joins it.
    let mut after_number = false;
    let inch_marks = ['"', '”', '″'];
    let word_char = |c: char| c.is_alphanumeric() || c == '.' || inch_marks.contains(&c);
    for raw in lower.split(|c: char| !word_char(c)).map(|w| w.trim_matches('.')).filter(|w| !w.is_empty()) {
        let word = raw.trim_end_matches(inch_marks);
        let inch = word.len() < raw.len();
        if word.is_empty() || word.contains(inch_marks) {
            continue;
        }
        if let Some(unit) = canonical_unit(word).filter(|_| after_number) {
            key.push_str(unit);
            after_number = false;
            continue;
        }
        if matches!(word, "the" | "a" | "an") {
            continue;
        }
        if !key.is_empty() {
            key.push(' ');
        }
        let start = key.len();
        push_number_unit(&mut key, word);
        after_number = key[start..].bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if inch && after_number {
            key.push_str("inch");
            after_number = false;
        }
    }
    key
}

/// `10,000mAh` → `10000mah`; a `.` stays only between two digits (`4.5l`).
fn join_number_separators(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let between_digits =
            i > 0 && bytes[i - 1].is_ascii_digit() && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        match c {
            ',' if between_digits => {}
            '.' if !between_digits => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Units spelled several ways, in the key's spelling.
fn canonical_unit(word: &str) -> Option<&'static str> {
    Some(match word {
        "gb" | "gig" | "gigs" => "gb",
        "tb" => "tb",
        "mb" => "mb",
        "inch" | "inches" => "inch",
        "kg" | "kgs" | "kilo" | "kilos" => "kg",
        "g" | "gm" | "gms" | "grams" => "g",
        "l" | "ltr" | "ltrs" | "litre" | "litres" | "liter" | "liters" => "l",
        "ml" => "ml",
        "mah" => "mah",
        "w" | "watts" => "w",
        _ => return None,
    })
}

/// Appends `word`, with `55in` and `64gigs` spelled `55inch` and `64gb`.
fn push_number_unit(key: &mut String, word: &str) {
    let digits = word.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
    match canonical_unit(&word[digits..]).filter(|_| digits > 0 && digits < word.len()) {
        Some(unit) => {
            key.push_str(&word[..digits]);
            key.push_str(unit);
        }
        None => key.push_str(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn title_keys_agree_across_spellings() {
        assert_eq!(normalize_title_key("iPhone 12 64GB"), "iphone 12 64gb");
        assert_eq!(normalize_title_key("IPHONE 12 64 gb 🔥"), "iphone 12 64gb");
        assert_eq!(normalize_title_key("Brand new iPhone 12, 64gigs"), "iphone 12 64gb");
        assert_eq!(normalize_title_key("Samsung 55\" QLED TV"), "samsung 55inch qled tv");
        assert_eq!(normalize_title_key("Samsung 55 inch QLED TV"), "samsung 55inch qled tv");
        assert_eq!(normalize_title_key("Power bank 10,000mAh"), "power bank 10000mah");
        assert_eq!(normalize_title_key("Power bank 10000 mAh"), "power bank 10000mah");
        assert_eq!(normalize_title_key("Air fryer 4.5L"), "air fryer 4.5l");
        assert_eq!(normalize_title_key("Laptop 15.6\""), "laptop 15.6inch");
        assert_eq!(normalize_title_key("Plot 50 by 100 in Juja"), "plot 50 by 100 in juja");
    }

    #[test]
    fn keys_are_fixed_points() {
        for title in ["X#B", "iPhone 12 64GB", "Nike x-3", "New stock", "Samsung 55\" QLED"] {
            let key = normalize_title_key(title);
            assert_eq!(normalize_title_key(&key), key, "{title:?}");
        }
    }

    proptest! {
        #[test]
        fn keys_never_panic_and_are_stable(raw in "\\PC{0,80}") {
            let key = normalize_title_key(&raw);
            prop_assert_eq!(normalize_title_key(&key), key.clone());
            prop_assert!(!key.contains("  "));
        }
    }
}
