//! Link detection (`gateway::parse::find_whatsapp_links`): links are
//! deduplicated, product ids are digit strings of the accepted length found
//! in the text, phones are E.164, and a found product id is found again in a
//! canonical `wa.me/p/<id>` link.

use gateway::parse::{WaLink, find_whatsapp_links};
use phonenumber::country;

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let links = find_whatsapp_links(&text, country::Id::KE);
    for (i, link) in links.iter().enumerate() {
        assert!(!links[..i].contains(link), "links are deduplicated: {link:?}");
        match link {
            WaLink::Product { product_id, phone } => {
                assert!(
                    (15..=20).contains(&product_id.len()) && product_id.bytes().all(|b| b.is_ascii_digit()),
                    "product id {product_id:?}"
                );
                assert!(text.contains(product_id.as_str()), "product id comes from the text");
                if let Some(phone) = phone {
                    super::assert_e164(phone);
                }
                let canonical = find_whatsapp_links(&format!("see wa.me/p/{product_id} now"), country::Id::KE);
                let expected = WaLink::Product { product_id: product_id.clone(), phone: None };
                assert_eq!(canonical, vec![expected], "a canonical link to {product_id} is found");
            }
            WaLink::Catalog { phone } => super::assert_e164(phone),
        }
    }
}
