//! The one rule for a WhatsApp product id, shared by link detection
//! (`parse::links`), the scout and hydrate stages and the products API: a
//! product page is fetched as `<base>/p/<id>/<phone>` with exactly 16 ASCII
//! digits. Ids of other lengths do occur in shared links, but hydrate cannot
//! fetch them, so link detection drops them (counted as `invalid_product_id`)
//! instead of making jobs that can only die.

/// How many digits a fetchable product id has.
pub const PRODUCT_ID_DIGITS: usize = 16;

/// Whether `s` is a WhatsApp product id as product pages are fetched by:
/// exactly [`PRODUCT_ID_DIGITS`] ASCII digits.
pub fn is_product_id(s: &str) -> bool {
    s.len() == PRODUCT_ID_DIGITS && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sixteen_ascii_digits_only() {
        assert!(is_product_id("7123456789012345"));
        for s in ["", "712345678901234", "71234567890123456", "712345678901234a", "７123456789012345", "+123456789012345"] {
            assert!(!is_product_id(s), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn accepts_exactly_sixteen_digit_strings(s in "\\PC{0,24}") {
            let expected = s.chars().count() == 16 && s.chars().all(|c| c.is_ascii_digit());
            prop_assert_eq!(is_product_id(&s), expected);
        }
    }
}
