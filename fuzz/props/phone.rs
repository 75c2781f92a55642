//! Phone normalisation (`gateway::parse::phone`): a result is E.164 and a
//! fixed point (normalising it again gives it back); odd input never panics.

use gateway::parse::phone::{normalize_phone, parse_region};

/// Regions the vendor settings use; the input's length picks one.
const REGIONS: [&str; 5] = ["KE", "TZ", "UG", "NG", "US"];

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let region = parse_region(REGIONS[data.len() % REGIONS.len()]).unwrap_or_else(|| unreachable!("known region"));
    if let Some(e164) = normalize_phone(&text, region) {
        super::assert_e164(&e164);
        assert_eq!(normalize_phone(&e164, region).as_deref(), Some(e164.as_str()), "E.164 is a fixed point");
    }
    if let Some(region) = parse_region(&text) {
        let code: &str = region.as_ref();
        assert!(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()), "region code {code:?}");
    }
}
