//! Link detection and hydrate agree on product ids: every id `parse::links` turns into a
//! product link is one hydrate fetches (its `is_product_id` gate and the `product_url` it
//! builds), and every id hydrate fetches is found by link detection in each link shape.

use proptest::prelude::*;
use url::Url;

use crate::parse::{WaLink, find_whatsapp_links, product_id::is_product_id, scan_whatsapp_links};
use crate::pipeline::scout::{extract_product_ids, product_url};

const KE: phonenumber::country::Id = phonenumber::country::Id::KE;
const PHONE: &str = "+254712345678";

/// What the hydrate stage does with a job's product id: the gate in `run`, then the URL.
fn hydrate_fetches(id: &str) -> bool {
    let base = Url::parse("https://wa.me").map_err(|e| e.to_string());
    is_product_id(id) && base.is_ok_and(|base| product_url(&base, id, PHONE).is_ok())
}

fn shapes(id: &str) -> [String; 4] {
    [
        format!("https://wa.me/p/{id}/254712345678"),
        format!("see www.whatsapp.com/en/product/{id}/254712345678 now"),
        format!("api.whatsapp.com/product/{id}"),
        format!("whatsapp://product/{id}/254712345678"),
    ]
}

fn detected_ids(text: &str) -> Vec<String> {
    find_whatsapp_links(text, KE)
        .into_iter()
        .filter_map(|link| match link {
            WaLink::Product { product_id, .. } => Some(product_id),
            WaLink::Catalog { .. } => None,
        })
        .collect()
}

#[test]
fn known_lengths() {
    for (id, fetchable) in [("7123456789012345", true), ("24170182242598356", false), ("123456789012345", false)] {
        assert_eq!(hydrate_fetches(id), fetchable, "{id}");
        for text in shapes(id) {
            assert_eq!(detected_ids(&text) == vec![id.to_owned()], fetchable, "{text}");
            assert_eq!(scan_whatsapp_links(&text, KE).invalid_product_ids, usize::from(!fetchable), "{text}");
        }
    }
}

proptest! {
    /// Both directions over digit runs of every length around 16.
    #[test]
    fn detector_accepts_exactly_what_hydrate_fetches(id in "[0-9]{1,24}") {
        let fetchable = hydrate_fetches(&id);
        for text in shapes(&id) {
            let found = detected_ids(&text);
            prop_assert_eq!(found == vec![id.clone()], fetchable, "{}", text);
            prop_assert!(found.iter().all(|found| found == &id), "no other id is made up: {:?}", found);
        }
        // A catalog page linking the product yields it under the same rule.
        let html = format!("<a href=\"https://wa.me/p/{id}/254712345678\">x</a>");
        prop_assert_eq!(extract_product_ids(&html) == vec![id.clone()], fetchable);
    }

    /// Whatever the text, every product id the detector reports is one hydrate fetches.
    #[test]
    fn every_detected_id_is_fetchable(text in "((https?://)?(www\\.|api\\.)?(wa\\.me/p|whatsapp\\.com/product|whatsapp://product)/[0-9]{0,24}[a-z+]{0,2}(/[0-9+]{0,14})? ?){1,4}") {
        for id in detected_ids(&text) {
            prop_assert!(hydrate_fetches(&id), "{} from {}", id, text);
        }
    }

    #[test]
    fn every_detected_id_is_fetchable_in_any_text(text in "\\PC{0,80}") {
        for id in detected_ids(&text) {
            prop_assert!(hydrate_fetches(&id), "{} from {:?}", id, text);
        }
    }
}
