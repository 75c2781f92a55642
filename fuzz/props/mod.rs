//! The properties every fuzz target checks, one module per target. Each
//! `check` takes the raw input bytes and panics when a property fails, so the
//! same function serves `cargo fuzz` (`fuzz/fuzz_targets/<target>.rs`) and the
//! stable corpus replay (`gateway/tests/fuzz_corpus.rs`, which includes this
//! file with `#[path]`). Keep the checks cheap: libFuzzer runs them millions
//! of times.

pub mod charset;
pub mod export;
pub mod links;
pub mod offers;
pub mod og;
pub mod phone;
pub mod price;
pub mod schema;
pub mod signature;

/// Every target, by name: the folder under `fuzz/corpus/` and
/// `fuzz/regressions/`, the binary under `fuzz/fuzz_targets/`, and its check.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("offers", offers::check),
    ("price", price::check),
    ("phone", phone::check),
    ("links", links::check),
    ("export", export::check),
    ("og", og::check),
    ("charset", charset::check),
    ("schema", schema::check),
    ("signature", signature::check),
];

/// Asserts that `e164` is an E.164 number: `+` and 7 to 15 digits.
pub fn assert_e164(e164: &str) {
    let digits = e164.strip_prefix('+').unwrap_or_else(|| panic!("E.164 starts with +: {e164:?}"));
    assert!(
        (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
        "E.164 is + and 7 to 15 digits: {e164:?}"
    );
}

/// Asserts that `span` lies in `text` on char boundaries, so `&text[span]` cannot panic.
pub fn assert_span(text: &str, span: &std::ops::Range<usize>, what: &str) {
    assert!(span.start <= span.end && span.end <= text.len(), "{what} span {span:?} outside the text ({} bytes)", text.len());
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what} span {span:?} not on char boundaries"
    );
}
