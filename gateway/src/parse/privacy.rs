//! Masking phone numbers wherever they must appear (diagnostics downloads,
//! the failure log): any run of 7 or more digits, with the usual separators
//! and an optional `+`, keeps only its last three digits; the others become
//! `•`. Separators stay, so the shape is still recognisable.

pub fn mask_phones(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            let mut end = i + 1;
            while end < chars.len()
                && (chars[end].is_ascii_digit()
                    || (matches!(chars[end], ' ' | '-' | '.') && chars.get(end + 1).is_some_and(char::is_ascii_digit)))
            {
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

#[cfg(test)]
mod tests {
    use super::mask_phones;
    use proptest::prelude::*;

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
        fn never_leaves_more_than_three_digits_of_a_phone(text in "[0-9 +a-z.-]{0,60}") {
            let masked = mask_phones(&text);
            let mut run = 0;
            for ch in masked.chars() {
                run = if ch.is_ascii_digit() { run + 1 } else { 0 };
                prop_assert!(run < 7, "{masked}");
            }
            prop_assert_eq!(masked.chars().count(), text.chars().count(), "masking keeps the length");
        }
    }
}
