//! The catalog diff, pure: what a seller's catalog lists now, against what it listed before.
//!
//! - **unseen**: listed now, not among the catalog's products before. New ids become product
//!   rows and hydrate jobs; ids a message linked first are marked as listed.
//! - **vanished**: listed before, not now. They become inactive, each with a `product_delisted`
//!   event.
//! - **returned**: delisted before, listed again. Active again, with a `product_relisted` event
//!   and a fresh hydration.
//! - **kept**: listed before and now: untouched.
//!
//! A listing is evidence of what is gone only when it is whole: an empty listing (a blank page,
//! a login wall, markup the scanner no longer reads) or one cut short at the page limit vanishes
//! nothing. The caller treats an empty one as "no information" and writes no diff at all.

use std::collections::{HashMap, HashSet};

/// What the diff found; ids in listing order (`unseen`, `returned`) or id order (`vanished`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogDiff {
    pub unseen: Vec<String>,
    pub vanished: Vec<String>,
    pub returned: Vec<String>,
    pub kept: usize,
}

/// `before`: the catalog's products with whether each is delisted now (`store::catalogs::listed_before`).
/// `listed`: the ids the scout read, in page order. `whole`: every page was read (no page limit hit).
pub fn diff_catalog(before: &[(String, bool)], listed: &[String], whole: bool) -> CatalogDiff {
    let known: HashMap<&str, bool> = before
        .iter()
        .map(|(id, delisted)| (id.as_str(), *delisted))
        .collect();
    let mut seen: HashSet<&str> = HashSet::with_capacity(listed.len());
    let mut diff = CatalogDiff::default();
    for id in listed {
        if !seen.insert(id.as_str()) {
            continue;
        }
        match known.get(id.as_str()) {
            None => diff.unseen.push(id.clone()),
            Some(true) => diff.returned.push(id.clone()),
            Some(false) => diff.kept += 1,
        }
    }
    if whole && !seen.is_empty() {
        diff.vanished = before
            .iter()
            .filter(|(id, delisted)| !delisted && !seen.contains(id.as_str()))
            .map(|(id, _)| id.clone())
            .collect();
    }
    diff
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn before(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter()
            .map(|(id, delisted)| ((*id).to_owned(), *delisted))
            .collect()
    }

    #[test]
    fn a_first_scout_finds_everything_unseen() {
        let d = diff_catalog(&[], &ids(&["a", "b", "c"]), true);
        assert_eq!(
            d,
            CatalogDiff {
                unseen: ids(&["a", "b", "c"]),
                ..CatalogDiff::default()
            }
        );
    }

    #[test]
    fn new_vanished_and_kept_ids_are_told_apart() {
        let d = diff_catalog(
            &before(&[("a", false), ("b", false), ("c", false)]),
            &ids(&["b", "c", "d"]),
            true,
        );
        assert_eq!(
            d,
            CatalogDiff {
                unseen: ids(&["d"]),
                vanished: ids(&["a"]),
                returned: vec![],
                kept: 2
            }
        );
    }

    #[test]
    fn a_delisted_id_that_comes_back_returns_and_one_still_gone_stays_put() {
        let d = diff_catalog(
            &before(&[("a", true), ("b", false), ("x", true)]),
            &ids(&["a", "b"]),
            true,
        );
        assert_eq!(
            d,
            CatalogDiff {
                unseen: vec![],
                vanished: vec![],
                returned: ids(&["a"]),
                kept: 1
            }
        );
    }

    #[test]
    fn an_empty_listing_vanishes_nothing() {
        let d = diff_catalog(&before(&[("a", false), ("b", false)]), &[], true);
        assert_eq!(d, CatalogDiff::default());
    }

    #[test]
    fn a_listing_cut_short_vanishes_nothing_but_still_adds() {
        let d = diff_catalog(
            &before(&[("a", false), ("b", false)]),
            &ids(&["b", "c"]),
            false,
        );
        assert_eq!(
            d,
            CatalogDiff {
                unseen: ids(&["c"]),
                vanished: vec![],
                returned: vec![],
                kept: 1
            }
        );
    }

    #[test]
    fn repeated_ids_count_once() {
        let d = diff_catalog(&before(&[("a", false)]), &ids(&["a", "b", "a", "b"]), true);
        assert_eq!(
            d,
            CatalogDiff {
                unseen: ids(&["b"]),
                vanished: vec![],
                returned: vec![],
                kept: 1
            }
        );
    }

    proptest! {
        /// Every listed id lands in exactly one of unseen, returned or kept; every vanished id was
        /// listed before and is not listed now; nothing vanishes from an empty or partial listing.
        #[test]
        fn partitions_the_listing(
            before_ids in proptest::collection::btree_map("[a-f]", any::<bool>(), 0..6),
            listed in proptest::collection::vec("[a-h]", 0..8),
            whole in any::<bool>(),
        ) {
            let before: Vec<(String, bool)> = before_ids.into_iter().collect();
            let d = diff_catalog(&before, &listed, whole);
            let distinct: HashSet<&String> = listed.iter().collect();
            prop_assert_eq!(d.unseen.len() + d.returned.len() + d.kept, distinct.len());
            for id in &d.vanished {
                prop_assert!(!distinct.contains(id));
                prop_assert!(before.iter().any(|(b, delisted)| b == id && !delisted));
            }
            if listed.is_empty() || !whole {
                prop_assert!(d.vanished.is_empty());
            }
            for id in &d.unseen {
                prop_assert!(!before.iter().any(|(b, _)| b == id));
            }
        }
    }
}
