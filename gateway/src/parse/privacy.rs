//! Masking phone numbers wherever they must appear (diagnostics downloads,
//! the failure log): any run of 7 or more digits, with the usual separators
//! and an optional `+`, keeps only its last three digits; the others become
//! `•`. Separators stay, so the shape is still recognisable.
//!
//! Ids are never masked (issue 19): digits inside a hex id
//! (`3EB0C767D26A1234567`, `chat-3f2a1b4c12345678`, a UUID) are not a phone,
//! and [`mask_chat_id`] knows which chat ids embed a phone at all, so
//! a masked download still names chats that `/admin/whatsapp/{id}` finds.

pub fn mask_phones(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let protected = hex_id_chars(&chars);
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit) && !protected[i];
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if digit(i) || (chars[i] == '+' && digit(i + 1)) {
            let start = i;
            let mut end = i + 1;
            while end < chars.len() && (digit(end) || (matches!(chars[end], ' ' | '-' | '.') && digit(end + 1))) {
                end += 1;
            }
            let run = &chars[start..end];
            let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
            if digits >= 7 {
                let mut seen = 0;
                for ch in run {
                    if ch.is_ascii_digit() {
                        seen += 1;
                        out.push(if seen > digits - 3 { *ch } else { '•' });
                    } else {
                        out.push(*ch);
                    }
                }
            } else {
                out.extend(run);
            }
            i = end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Marks the characters of hex ids: alphanumeric tokens with a digit and at
/// least one letter, all of them hex (`3EB0C767D26A1234567`, the hex of
/// `chat-3f2a1b4c12345678`), and the all-digit tokens joined to one by `-`
/// (a UUID's segments). A token with any other letter (`call0712345678`) is
/// not an id, so its phone is still masked.
fn hex_id_chars(chars: &[char]) -> Vec<bool> {
    let mut tokens: Vec<(usize, usize, bool, bool)> = Vec::new(); // start, end, hex id, all digits
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let token = &chars[start..i];
        let letters = token.iter().any(char::is_ascii_alphabetic);
        let hex = letters && token.iter().any(char::is_ascii_digit) && token.iter().all(char::is_ascii_hexdigit);
        tokens.push((start, i, hex, !letters));
    }
    let dashed = |a: &(usize, usize, bool, bool), b: &(usize, usize, bool, bool)| b.0 == a.1 + 1 && chars[a.1] == '-';
    for k in 1..tokens.len() {
        if tokens[k].3 && tokens[k - 1].2 && dashed(&tokens[k - 1], &tokens[k]) {
            tokens[k].2 = true;
        }
    }
    for k in (0..tokens.len().saturating_sub(1)).rev() {
        if tokens[k].3 && tokens[k + 1].2 && dashed(&tokens[k], &tokens[k + 1]) {
            tokens[k].2 = true;
        }
    }
    let mut protected = vec![false; chars.len()];
    for (start, end, hex, _) in tokens {
        if hex {
            protected[start..end].iter_mut().for_each(|p| *p = true);
        }
    }
    protected
}

/// A chat id as the diagnostics downloads show it: the phone in a one-to-one
/// chat's JID (`254712345678@s.whatsapp.net`, `@c.us`) and in a Meta chat's
/// sender (`meta:<phone_number_id>:<from>`) is masked; group, `@lid`,
/// newsletter and broadcast ids, ids derived from a title (`chat-<hex>`) and
/// other hex ids stay as stored, so they can be looked up.
pub fn mask_chat_id(id: &str) -> String {
    if id.starts_with("chat-") {
        return id.to_owned();
    }
    if let Some(rest) = id.strip_prefix("meta:")
        && let Some((phone_number_id, from)) = rest.split_once(':')
    {
        return format!("meta:{phone_number_id}:{}", mask_phones(from));
    }
    match id.split_once('@') {
        Some((local, domain)) if matches!(domain, "s.whatsapp.net" | "c.us") => format!("{}@{domain}", mask_phones(local)),
        Some(_) => id.to_owned(),
        None => mask_phones(id),
    }
}

#[cfg(test)]
mod tests {
    use super::{mask_chat_id, mask_phones};
    use proptest::prelude::*;

    #[test]
    fn ids_are_never_masked_phones_always_are() {
        for id in [
            "chat-3f2a1b4c12345678",
            "chat-1234567890123456",
            "3EB0C767D26A1234567",
            "120363000000000001@g.us",
            "254712345678-1534523123@g.us",
            "123456789012345@lid",
            "0d5c6a2e-1234-5678-9abc-def012345678",
        ] {
            assert_eq!(mask_chat_id(id), id, "{id} is an id");
        }
        assert_eq!(mask_phones("id 3EB0C767D26A1234567 from 0712345678"), "id 3EB0C767D26A1234567 from •••••••678");
        assert_eq!(mask_chat_id("254712345678@s.whatsapp.net"), "•••••••••678@s.whatsapp.net");
        assert_eq!(mask_chat_id("254712345678@c.us"), "•••••••••678@c.us");
        assert_eq!(mask_chat_id("meta:106540352242922:254712345678"), "meta:106540352242922:•••••••••678");
        assert_eq!(mask_phones("call0712345678"), "call•••••••678", "a non-hex word glued to a phone");
        assert_eq!(mask_phones("ab12 0712345678"), "ab12 •••••••678", "a phone right after a hex token");
        assert_eq!(mask_phones("0712345678 12ab"), "•••••••678 12ab");
    }

    #[test]
    fn masks_phones_in_their_usual_shapes() {
        assert_eq!(mask_phones("254712345678@s.whatsapp.net"), "•••••••••678@s.whatsapp.net");
        assert_eq!(mask_phones("call +254 712 345 678 now"), "call +••• ••• ••• 678 now");
        assert_eq!(mask_phones("0712-345-678"), "••••-•••-678");
        assert_eq!(mask_phones("order 123456 ready"), "order 123456 ready", "six digits are not a phone");
        assert_eq!(mask_phones("Pixel 8 Pro - $750, 128GB, 2024"), "Pixel 8 Pro - $750, 128GB, 2024");
    }

    proptest! {
        #[test]
        fn never_leaves_more_than_three_digits_of_a_phone(text in "[0-9 +g-z.-]{0,60}") {
            let masked = mask_phones(&text);
            let mut run = 0;
            for ch in masked.chars() {
                run = if ch.is_ascii_digit() { run + 1 } else { 0 };
                prop_assert!(run < 7, "{masked}");
            }
            prop_assert_eq!(masked.chars().count(), text.chars().count(), "masking keeps the length");
        }

        #[test]
        fn hex_ids_pass_unchanged(id in "[0-9a-f]{4,12}[a-f][0-9a-f]{4,20}", phone in "0[17][0-9]{8}") {
            let text = format!("{id} {phone}");
            let masked = mask_phones(&text);
            prop_assert!(masked.starts_with(&format!("{id} ")), "{masked}");
            prop_assert!(masked.ends_with(&phone[7..]) && !masked.contains(&phone), "{masked}");
        }
    }
}
