//! WhatsApp product and catalog links in message text.
//!
//! Accepted shapes, with or without `http://`/`https://`, any letter case:
//! - product: `wa.me/p/<id>/<phone>`, `[www.|web.|api.|business.]whatsapp.com[/<lang>]/product/<id>[/<phone>]`,
//!   `whatsapp://product/<id>[/<phone>]`;
//! - catalog: `wa.me/c/<phone>`, `[www.|web.|api.|business.]whatsapp.com[/<lang>]/catalog/<phone>`,
//!   `whatsapp://catalog/<phone>`.
//!
//! `<id>` is any run of digits in the link, but only ids that hydrate can
//! fetch ([`is_product_id`]: exactly 16 digits) become links; the others are
//! counted in [`LinkScan::invalid_product_ids`] so extraction can report them
//! (`invalid_product_id`) instead of making jobs that can only die. `<phone>` is the seller's number in
//! international digits (a `+` and a national `0…` form are tolerated) and is
//! stored as E.164; a catalog whose phone is not a valid number is dropped, a
//! product keeps its id with `phone: None`. Chat links (`wa.me/<phone>`,
//! `api.whatsapp.com/send?phone=…`) and group invites are not products or
//! catalogs and are ignored.

use std::collections::HashSet;

use phonenumber::country;
use serde::Serialize;

use super::product_id::is_product_id;
use super::phone::normalize_phone;
use super::text::{Pattern, compiled};

/// A product or catalog a message links to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WaLink {
    Product { product_id: String, phone: Option<String> },
    Catalog { phone: String },
}

static LINK: Pattern = Pattern::new(|| {
    compiled(concat!(
        r"(?i)\b(?:https?://)?(?:(?:www|web|api|business)\.)?(?:",
        r"wa\.me/p/(?P<wa_id>\d+)(?:/(?P<wa_phone>\+?\d+))?",
        r"|wa\.me/c/(?P<wa_catalog>\+?\d+)",
        r"|whatsapp\.com(?:/[a-z]{2}(?:[-_][a-z]{2})?)?/product/(?P<web_id>\d+)(?:/(?P<web_phone>\+?\d+))?",
        r"|whatsapp\.com(?:/[a-z]{2}(?:[-_][a-z]{2})?)?/catalog/(?P<web_catalog>\+?\d+)",
        r")|whatsapp://product/(?P<app_id>\d+)(?:/(?P<app_phone>\+?\d+))?",
        r"|whatsapp://catalog/(?P<app_catalog>\+?\d+)",
    ))
});

/// What one message's text links to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkScan {
    /// Product and catalog links, deduplicated, in order of appearance.
    pub links: Vec<WaLink>,
    /// Distinct product links whose id hydrate could not fetch (not 16 digits).
    pub invalid_product_ids: usize,
}

/// The product and catalog links in `text`, deduplicated, in order of
/// appearance. `region` reads national-format phones (`0712…`).
pub fn find_whatsapp_links(text: &str, region: country::Id) -> Vec<WaLink> {
    scan_whatsapp_links(text, region).links
}

/// [`find_whatsapp_links`], plus how many product links carried an id that
/// [`is_product_id`] refuses.
pub fn scan_whatsapp_links(text: &str, region: country::Id) -> LinkScan {
    let Some(re) = LINK.as_ref() else {
        return LinkScan::default();
    };
    // Sets, not `Vec::contains`: a message may hold thousands of links.
    let mut links: Vec<WaLink> = Vec::new();
    let mut seen: HashSet<WaLink> = HashSet::new();
    let mut invalid: HashSet<&str> = HashSet::new();
    for caps in re.captures_iter(text) {
        let product = [("wa_id", "wa_phone"), ("web_id", "web_phone"), ("app_id", "app_phone")]
            .iter()
            .find_map(|(id, phone)| caps.name(id).map(|id| (id.as_str(), caps.name(phone))));
        let link = if let Some((id, phone)) = product {
            if !is_product_id(id) {
                invalid.insert(id);
                continue;
            }
            let phone = phone.and_then(|p| seller_phone(p.as_str(), region));
            WaLink::Product { product_id: id.to_string(), phone }
        } else {
            let catalog = ["wa_catalog", "web_catalog", "app_catalog"].iter().find_map(|name| caps.name(name));
            let Some(phone) = catalog.and_then(|p| seller_phone(p.as_str(), region)) else {
                continue;
            };
            WaLink::Catalog { phone }
        };
        if seen.insert(link.clone()) {
            links.push(link);
        }
    }
    LinkScan { links, invalid_product_ids: invalid.len() }
}

/// Links carry international digits without `+`; a leading `0` is a national number.
fn seller_phone(digits: &str, region: country::Id) -> Option<String> {
    if digits.starts_with('+') || digits.starts_with('0') {
        normalize_phone(digits, region)
    } else {
        normalize_phone(&format!("+{digits}"), region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KE: country::Id = country::Id::KE;

    fn product(id: &str, phone: Option<&str>) -> WaLink {
        WaLink::Product { product_id: id.into(), phone: phone.map(Into::into) }
    }

    fn catalog(phone: &str) -> WaLink {
        WaLink::Catalog { phone: phone.into() }
    }

    #[test]
    fn the_pattern_compiles() {
        assert!(LINK.is_some());
    }

    #[test]
    fn finds_every_accepted_shape() {
        let cases = [
            ("see https://wa.me/p/7123456789012345/254712345678 !", product("7123456789012345", Some("+254712345678"))),
            ("wa.me/p/7123456789012345/254712345678", product("7123456789012345", Some("+254712345678"))),
            ("HTTP://WA.ME/P/7123456789012345/254712345678", product("7123456789012345", Some("+254712345678"))),
            ("https://www.whatsapp.com/product/7123456789012345/254712345678/?app_absent=0", product("7123456789012345", Some("+254712345678"))),
            ("https://web.whatsapp.com/product/7123456789012345/254712345678", product("7123456789012345", Some("+254712345678"))),
            ("api.whatsapp.com/product/7123456789012345", product("7123456789012345", None)),
            ("whatsapp://product/7123456789012345/254712345678", product("7123456789012345", Some("+254712345678"))),
            ("wa.me/p/7123456789012345/999", product("7123456789012345", None)),
            ("catalog: wa.me/c/254712345678", catalog("+254712345678")),
            ("https://wa.me/c/254712345678?text=hi", catalog("+254712345678")),
            ("https://www.whatsapp.com/catalog/254712345678/?app_absent=0", catalog("+254712345678")),
            ("https://api.whatsapp.com/catalog/254712345678", catalog("+254712345678")),
            ("whatsapp.com/en/catalog/447911123456", catalog("+447911123456")),
            ("wa.me/c/0712345678", catalog("+254712345678")),
            ("whatsapp://catalog/2348031234567", catalog("+2348031234567")),
        ];
        for (text, want) in cases {
            assert_eq!(find_whatsapp_links(text, KE), vec![want], "{text:?}");
        }
    }

    #[test]
    fn ignores_chats_invites_and_lookalikes() {
        for text in [
            "https://wa.me/254712345678",
            "https://api.whatsapp.com/send?phone=254712345678",
            "https://chat.whatsapp.com/Ly28IB8Fel4JbPS0qCUy2p",
            "ottawa.me/p/7123456789012345/254712345678",
            "wa.me/p/12345/254712345678",
            "wa.me/c/12",
            "wa.me/c/abc",
        ] {
            assert_eq!(find_whatsapp_links(text, KE), vec![], "{text:?}");
        }
    }

    #[test]
    fn deduplicates_in_order_of_appearance() {
        let text = "Catalog wa.me/c/254712345678 and https://www.whatsapp.com/catalog/254712345678/ \
                    then wa.me/p/7123456789012345/254712345678 and again wa.me/c/254712345678, \
                    wa.me/p/7123456789012346/254712345678";
        assert_eq!(
            find_whatsapp_links(text, KE),
            vec![
                catalog("+254712345678"),
                product("7123456789012345", Some("+254712345678")),
                product("7123456789012346", Some("+254712345678")),
            ]
        );
    }

    #[test]
    fn ids_hydrate_cannot_fetch_are_counted_not_linked() {
        let text = "shared https://wa.me/p/24170182242598356/254712345678 and wa.me/p/123456789012345/254712345678, \
                    again wa.me/p/24170182242598356/254712345678, good wa.me/p/7123456789012345/254712345678";
        let scan = scan_whatsapp_links(text, KE);
        assert_eq!(scan.links, vec![product("7123456789012345", Some("+254712345678"))]);
        assert_eq!(scan.invalid_product_ids, 2, "distinct bad ids: 17 and 15 digits");
    }

    #[test]
    fn a_thousand_links_are_all_found() {
        let text: String = (0..1_000).map(|n| format!("wa.me/p/{}/254712345678 ", 7_000_000_000_000_000u64 + n)).collect();
        let scan = scan_whatsapp_links(&text, KE);
        assert_eq!((scan.links.len(), scan.invalid_product_ids), (1_000, 0), "capping is extraction's job, not the parser's");
    }

    #[test]
    fn links_serialise_with_a_kind_tag() {
        let json = serde_json::to_string(&catalog("+254712345678")).unwrap_or_default();
        assert_eq!(json, r#"{"kind":"catalog","phone":"+254712345678"}"#);
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,120}") {
            let _ = find_whatsapp_links(&text, KE);
        }

        #[test]
        fn never_panics_on_link_noise(text in "(https?://)?(www\\.|api\\.)?(wa\\.me|whatsapp\\.com)/(p|c|product|catalog)/[0-9+]{0,24}(/[0-9+]{0,18})?[?/a-z=_0-9]{0,10}") {
            for link in find_whatsapp_links(&text, KE) {
                match link {
                    WaLink::Product { product_id, phone } => {
                        prop_assert!(is_product_id(&product_id));
                        prop_assert!(phone.is_none_or(|p| p.starts_with('+')));
                    }
                    WaLink::Catalog { phone } => prop_assert!(phone.starts_with('+')),
                }
            }
        }
    }
}
