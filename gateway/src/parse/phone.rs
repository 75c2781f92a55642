//! Phone normalisation to E.164.
//!
//! Senders arrive as WhatsApp JIDs (`254712345678@s.whatsapp.net`), legacy
//! `@c.us` ids, international (`+254 712 345 678`, `00254…`) or national
//! (`0712 345678`) numbers, or not as phones at all (a display name, a `@lid`
//! privacy id). `phonenumber` has panicked on odd input in the past, so every
//! call into it is fenced with `catch_unwind`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use phonenumber::{Mode, country};

/// Longest E.164 number, in digits after the `+`.
const E164_MAX_DIGITS: usize = 15;

/// How many digits a phone number has here, without its `+`: candidates and results alike, so
/// every result is a candidate of its own (`00431118` is 8 digits, but `+431118` only 6).
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 7..=E164_MAX_DIGITS;

/// The region used for national-format numbers when none is configured.
pub const DEFAULT_REGION: &str = "KE";

/// Parses a configured region such as `KE` or `ng`.
pub fn parse_region(code: &str) -> Option<country::Id> {
    code.trim().to_ascii_uppercase().parse().ok()
}

/// Returns the E.164 form (`+254712345678`) when `raw` is a valid phone number,
/// `None` when it is not a phone (names, `@lid` ids, short codes, garbage).
pub fn normalize_phone(raw: &str, region: country::Id) -> Option<String> {
    let candidate = phone_candidate(raw)?;
    let e164 = to_e164(&candidate, region).filter(|e164| PHONE_DIGITS.contains(&(e164.len() - 1)))?;
    if e164 == candidate {
        return Some(e164);
    }
    // phonenumber rewrote the digits. A number written with its country code is taken as
    // written or not at all: `+254 11 11…` lost a leading `11` on every pass, so one sender
    // would have had several numbers (found by the fuzz target). A national number gains its
    // country code, and the result must be a fixed point.
    if candidate.starts_with('+') {
        return None;
    }
    (to_e164(&e164, region).as_deref() == Some(e164.as_str())).then_some(e164)
}

/// One fenced pass through `phonenumber`: the E.164 form of a valid number, `None` otherwise.
fn to_e164(candidate: &str, region: country::Id) -> Option<String> {
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        let number = phonenumber::parse(Some(region), candidate).ok()?;
        number
            .is_valid()
            .then(|| number.format().mode(Mode::E164).to_string())
    }));
    // E.164 allows 15 digits; phonenumber's metadata accepts some longer national
    // numbers (Nigerian `800…`, 16 digits with +234), found by the fuzz target.
    parsed.ok().flatten().filter(|e164| e164.len() <= E164_MAX_DIGITS + 1)
}

/// Strips JID suffixes and separators, and turns bare international digits
/// (as in JIDs, which never carry a `+`) into `+digits`. Returns `None` when
/// the text cannot be a phone number at all, before `phonenumber` sees it.
fn phone_candidate(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let (local, is_jid) = match trimmed.split_once('@') {
        Some((local, domain)) => {
            let domain = domain.to_ascii_lowercase();
            if domain == "s.whatsapp.net" || domain == "c.us" {
                // Multi-device JIDs carry a device suffix: `2547…:12@s.whatsapp.net`.
                (local.split(':').next().unwrap_or(local), true)
            } else {
                return None;
            }
        }
        None => (trimmed, false),
    };
    let mut digits = String::with_capacity(local.len() + 1);
    let mut plus = false;
    for ch in local.chars() {
        match ch {
            '0'..='9' => digits.push(ch),
            '+' if digits.is_empty() && !plus => plus = true,
            ' ' | '-' | '.' | '(' | ')' | '\u{a0}' | '\u{200e}' | '\u{202a}' | '\u{202c}' => {}
            _ => return None,
        }
    }
    if let Some(rest) = digits.strip_prefix("00").filter(|_| !plus) {
        return PHONE_DIGITS.contains(&rest.len()).then(|| format!("+{rest}"));
    }
    if !PHONE_DIGITS.contains(&digits.len()) {
        return None;
    }
    if plus || is_jid {
        return Some(format!("+{digits}"));
    }
    Some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ke(raw: &str) -> Option<String> {
        normalize_phone(raw, country::Id::KE)
    }

    #[test]
    fn numbers_longer_than_e164_allows_are_not_phones() {
        assert_eq!(normalize_phone("8005870504704", country::Id::NG), None);
        assert_eq!(normalize_phone("0803 123 4567", country::Id::NG).as_deref(), Some("+2348031234567"));
    }

    #[test]
    fn a_number_that_changes_when_parsed_again_is_not_a_phone() {
        // The fuzz target's finding (fuzz/regressions/phone/): `+254 11 11…` lost a leading
        // `11` on every pass, so normalising its own output gave yet another number.
        assert_eq!(normalize_phone("+254 11 11)545-0132", country::Id::US), None);
        assert_eq!(normalize_phone("+254115450132", country::Id::US), None);
        // `00` then 6 digits is shorter than any phone here, as `+431118` is (fuzz/regressions/phone/).
        assert_eq!(normalize_phone("00431118", country::Id::NG), None);
        assert_eq!(normalize_phone("+431118", country::Id::NG), None);
    }

    #[test]
    fn normalises_the_shapes_senders_arrive_in() {
        let e164 = Some("+254712345678".to_string());
        for raw in [
            "254712345678@s.whatsapp.net",
            "254712345678:7@s.whatsapp.net",
            "254712345678@c.us",
            "+254 712 345 678",
            "+254-712-345-678",
            "00254712345678",
            "0712 345678",
            "0712345678",
            "\u{200e}+254 712 345 678",
        ] {
            assert_eq!(ke(raw), e164, "{raw:?}");
        }
        assert_eq!(ke("+44 7911 123456"), Some("+447911123456".into()));
        assert_eq!(ke("2348031234567@s.whatsapp.net"), Some("+2348031234567".into()));
    }

    #[test]
    fn rejects_what_is_not_a_phone() {
        for raw in ["Mama Mboga", "1234", "", "12345678901234@lid", "120363025246125486@g.us", "+999 1234567", "0712abc345"] {
            assert_eq!(ke(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn region_codes_parse_case_insensitively() {
        assert_eq!(parse_region("ke"), Some(country::Id::KE));
        assert_eq!(parse_region(" NG "), Some(country::Id::NG));
        assert_eq!(parse_region("XX"), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_e164(raw in ".{0,40}") {
            if let Some(out) = ke(&raw) {
                prop_assert!(out.starts_with('+'));
                prop_assert!(out[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert!((8..=16).contains(&out.len()));
            }
        }

        #[test]
        fn digit_noise_never_panics(raw in "[0-9+ ()@.:-]{0,30}(@s\\.whatsapp\\.net)?") {
            let _ = ke(&raw);
        }

        #[test]
        fn normalisation_is_idempotent(national in "7[0-9]{8}") {
            let once = ke(&format!("0{national}"));
            prop_assert!(once.is_some());
            let first = once.unwrap_or_default();
            prop_assert_eq!(ke(&first), Some(first.clone()));
        }
    }
}
