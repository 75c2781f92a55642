//! The search text of a listing and the terms of a query, normalised the same way:
//! lower case, anything but letters and digits is a space, and a word is cut where
//! letters meet digits. So `256GB`, `256 GB` and `256gb` are all `256 gb`, and
//! `iPhone13` and `iPhone 13` are both `iphone 13`. The database indexes the padded
//! form (`" iphone 13 "`), whose character trigrams (`" 13"`, `"13 "`) mark where
//! words begin and end; the trigrams of a query term are what it is looked up by,
//! so a term with a typo (`samsng`) still shares most of its trigrams with the word.

/// The longest search text stored for one listing, in characters.
pub const MAX_INDEX_CHARS: usize = 2_000;
/// The most terms a query is looked up by; the rest are ignored.
pub const MAX_QUERY_TERMS: usize = 12;
/// The most characters of one query term that are looked up.
pub const MAX_TERM_CHARS: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Digit,
    Other,
}

fn class(ch: char) -> Class {
    if ch.is_alphabetic() {
        Class::Letter
    } else if ch.is_numeric() {
        Class::Digit
    } else {
        Class::Other
    }
}

/// The normalised words of `text`, in order.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous = Class::Other;
    for ch in text.chars().flat_map(char::to_lowercase) {
        let now = class(ch);
        if (now != previous || now == Class::Other) && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if now != Class::Other {
            current.push(ch);
        }
        previous = now;
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// What the index stores for a listing made of `parts` (title, description…):
/// its words joined by single spaces, with a space at each end.
pub fn index_text(parts: &[Option<&str>]) -> String {
    let mut text = String::from(" ");
    for word in parts.iter().flatten().flat_map(|part| words(part)) {
        if text.chars().count() + word.chars().count() + 1 > MAX_INDEX_CHARS {
            break;
        }
        text.push_str(&word);
        text.push(' ');
    }
    text
}

/// A query's distinct terms, in order, at most [`MAX_QUERY_TERMS`].
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in words(query) {
        // A run-on word (a pasted link, a number string) is looked up by its start.
        let word: String = word.chars().take(MAX_TERM_CHARS).collect();
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == MAX_QUERY_TERMS {
            break;
        }
    }
    terms
}

/// The trigrams of a word padded with a space at each end (`13` gives `" 13"`, `"13 "`).
pub fn trigrams(word: &str) -> Vec<String> {
    let padded: Vec<char> = format!(" {word} ").chars().collect();
    let mut grams: Vec<String> = Vec::new();
    for window in padded.windows(3) {
        let gram: String = window.iter().collect();
        if !grams.contains(&gram) {
            grams.push(gram);
        }
    }
    grams
}

/// The padded trigrams of every word of `words`, as character triples.
pub fn gram_set<'a>(words: impl IntoIterator<Item = &'a str>) -> std::collections::HashSet<[char; 3]> {
    let mut grams = std::collections::HashSet::new();
    for word in words {
        let padded: Vec<char> = std::iter::once(' ').chain(word.chars()).chain(std::iter::once(' ')).collect();
        for window in padded.windows(3) {
            grams.insert([window[0], window[1], window[2]]);
        }
    }
    grams
}

/// The share of a query's padded trigrams that a listing's words hold, 0 to 1: how close the
/// listing is to the query below whole words (`ofisi` and `office` share ` of`).
pub fn gram_overlap(query: &std::collections::HashSet<[char; 3]>, words: &[&str]) -> f64 {
    if query.is_empty() {
        return 0.0;
    }
    let listing = gram_set(words.iter().copied());
    query.iter().filter(|gram| listing.contains(*gram)).count() as f64 / query.len() as f64
}

/// How alike two words are, 0 to 1: shared padded trigrams over all of them (as pg_trgm).
pub fn similarity(a: &str, b: &str) -> f64 {
    let mut left = Vec::new();
    gram_list(a, &mut left);
    similarity_to(&left, a, b, &mut Vec::new())
}

/// How well a query term is met by a listing's words, 0 to 1: 1 for the word itself,
/// 0.9 when the term begins a word (`iphon`, `sams`), else its best trigram likeness
/// when that is at least 0.35 (`samsng`), else 0.
pub fn term_match(term: &str, words: &[&str]) -> f64 {
    let prefix_counts = term.chars().count() >= 3;
    let mut begins = false;
    for word in words {
        if *word == term {
            return 1.0;
        }
        begins |= prefix_counts && word.starts_with(term);
    }
    if begins {
        // A trigram likeness is capped below a prefix match, so none can beat it.
        return 0.9;
    }
    let mut grams = Vec::new();
    gram_list(term, &mut grams);
    let mut scratch = Vec::new();
    let mut best: f64 = 0.0;
    for word in words {
        let likeness = similarity_to(&grams, term, word, &mut scratch);
        if likeness >= 0.35 {
            best = best.max(likeness.min(0.85));
        }
    }
    best
}

/// The distinct padded trigrams of `word` into `out` (cleared first), as character triples:
/// the same set as [`trigrams`] without a string per trigram. Ranking calls this for every
/// word of every candidate, so it allocates nothing once `out` has grown.
fn gram_list(word: &str, out: &mut Vec<[char; 3]>) {
    out.clear();
    let mut chars = word.chars();
    let Some(mut b) = chars.next() else {
        return;
    };
    let mut a = ' ';
    for c in chars.chain(std::iter::once(' ')) {
        let gram = [a, b, c];
        if !out.contains(&gram) {
            out.push(gram);
        }
        (a, b) = (b, c);
    }
}

/// [`similarity`] with the first word's trigrams already made; `scratch` holds the second's.
fn similarity_to(left: &[[char; 3]], a: &str, b: &str, scratch: &mut Vec<[char; 3]>) -> f64 {
    if a == b {
        return 1.0;
    }
    gram_list(b, scratch);
    let shared = left.iter().filter(|gram| scratch.contains(gram)).count();
    let union = left.len() + scratch.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The string-trigram likeness that `similarity` must equal (the first version's).
    fn reference_similarity(a: &str, b: &str) -> f64 {
        if a == b {
            return 1.0;
        }
        let (left, right) = (trigrams(a), trigrams(b));
        let shared = left.iter().filter(|gram| right.contains(gram)).count();
        let union = left.len() + right.len() - shared;
        if union == 0 { 0.0 } else { shared as f64 / union as f64 }
    }

    proptest::proptest! {
        #[test]
        fn char_triples_give_the_string_trigrams_likeness(a in "[a-c0-9é]{0,7}", b in "[a-c0-9é]{0,7}") {
            proptest::prop_assert_eq!(similarity(&a, &b), reference_similarity(&a, &b));
            let mut grams = Vec::new();
            gram_list(&a, &mut grams);
            let strings: Vec<String> = grams.iter().map(|g| g.iter().collect()).collect();
            proptest::prop_assert_eq!(strings, trigrams(&a));
        }
    }

    #[test]
    fn units_and_models_split_where_letters_meet_digits() {
        for form in ["256gb", "256 GB", "256GB", "256-Gb"] {
            assert_eq!(words(form), ["256", "gb"], "{form}");
        }
        assert_eq!(words("iPhone13"), words("iphone 13"));
        assert_eq!(
            words("Samsung A14, 4/64GB!!"),
            ["samsung", "a", "14", "4", "64", "gb"]
        );
        assert_eq!(
            words("Viatu vya ngozi — size 42"),
            ["viatu", "vya", "ngozi", "size", "42"]
        );
        assert!(words(" ,.;  ").is_empty());
    }

    #[test]
    fn index_text_is_padded_and_bounded() {
        assert_eq!(
            index_text(&[Some("iPhone 13 Pro"), None, Some("256GB")]),
            " iphone 13 pro 256 gb "
        );
        let long = "word ".repeat(2_000);
        assert!(index_text(&[Some(&long)]).chars().count() <= MAX_INDEX_CHARS);
    }

    #[test]
    fn query_terms_are_distinct_and_bounded() {
        assert_eq!(query_terms("iphon 13 iphon"), ["iphon", "13"]);
        assert_eq!(
            query_terms("a b c d e f g h i j k l m n").len(),
            MAX_QUERY_TERMS
        );
    }

    #[test]
    fn typos_and_prefixes_match_words() {
        let doc = ["samsung", "galaxy", "a", "14"];
        assert_eq!(term_match("14", &doc), 1.0);
        assert!(term_match("samsng", &doc) >= 0.35);
        assert_eq!(term_match("sams", &doc), 0.9);
        assert_eq!(term_match("iphone", &doc), 0.0);
        assert_eq!(trigrams("13"), [" 13", "13 "]);
    }

    /// `term_match` as it was written first: every word compared every way.
    fn term_match_reference(term: &str, words: &[&str]) -> f64 {
        let mut best: f64 = 0.0;
        for word in words {
            if *word == term {
                return 1.0;
            }
            if term.chars().count() >= 3 && word.starts_with(term) {
                best = best.max(0.9);
                continue;
            }
            let likeness = similarity(term, word);
            if likeness >= 0.35 {
                best = best.max(likeness.min(0.85));
            }
        }
        best
    }

    proptest::proptest! {
        #[test]
        fn the_short_cut_term_match_agrees_with_the_full_one(
            term in "[a-c0-2]{1,6}",
            text in "[a-c0-2 ]{0,40}",
        ) {
            let words: Vec<&str> = text.split_whitespace().collect();
            proptest::prop_assert_eq!(term_match(&term, &words), term_match_reference(&term, &words));
        }
    }
}
