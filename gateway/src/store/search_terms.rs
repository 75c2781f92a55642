//! The boolean expressions that the text lookups send to the index, built from query terms
//! alone (no database): a term quoted for FTS5, the words a prefix spans, "at least k of n
//! terms" in FTS5's or tsquery's syntax, and the "any term, rarest first" read that stays
//! within a budget of listings, and the choice of a term's typo corrections among the
//! vocabulary words the backend read. `search_words.rs` (SQLite) and `search_pg.rs` use them.

use crate::parse::search_text::similarity;

/// The most listings one "at least k of n terms" read takes (newest first), unless the
/// caller asks more.
pub const STRICT_CAP: usize = 100;
/// The most listings (by the vocabulary's counts) that the "some terms" read may touch.
pub const RELAX_BUDGET: i64 = 5_000;

/// One term as the index is asked for it, and how many listings hold it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub(crate) expr: String,
    pub(crate) listings: i64,
}

impl Group {
    /// One term's alternatives (`or`: FTS5's `" OR "`, tsquery's `" | "`) as a group, or `None`
    /// when there are none.
    pub(crate) fn any_of(mut exprs: Vec<String>, listings: i64, or: &str) -> Option<Group> {
        match exprs.len() {
            0 => None,
            1 => Some(Group { expr: exprs.remove(0), listings }),
            _ => Some(Group {
                expr: format!("({})", exprs.join(or)),
                listings,
            }),
        }
    }
}

pub(crate) fn quoted(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// The (inclusive, exclusive) bounds of the words that begin with `prefix`.
pub(crate) fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}

/// How alike a vocabulary word must be to stand in for a term that begins no word; the same
/// floor as ranking's trigram match (`parse::search_text::term_match`).
pub const TYPO_LIKENESS: f64 = 0.35;
/// The most alike words that stand in for one term.
const CORRECTIONS: usize = 3;
/// The most vocabulary words read to find one term's corrections.
pub(crate) const CORRECTION_READ: i64 = 500;

/// The range of vocabulary words a term's corrections are looked for in (those that share
/// its first half), or `None` for a term too short to correct (under 4 characters).
pub(crate) fn correction_range(term: &str) -> Option<(String, String)> {
    let length = term.chars().count();
    if length < 4 {
        return None;
    }
    let half: String = term.chars().take((length / 2).max(2)).collect();
    Some(prefix_range(&half))
}

/// Of `words` (from [`correction_range`], with how many listings hold each), the best
/// [`CORRECTIONS`] at least [`TYPO_LIKENESS`] alike to `term`, best first.
pub(crate) fn corrections(term: &str, words: Vec<(String, i64)>) -> Vec<(String, i64)> {
    let mut alike: Vec<(f64, String, i64)> = words
        .into_iter()
        .map(|(word, doc)| (similarity(term, &word), word, doc))
        .filter(|(likeness, _, _)| *likeness >= TYPO_LIKENESS)
        .collect();
    alike.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    alike
        .into_iter()
        .take(CORRECTIONS)
        .map(|(_, word, doc)| (word, doc))
        .collect()
}

/// The "some terms" expression, joined by `or` (FTS5's `" OR "`, tsquery's `" | "`): the
/// rarest groups first, within [`RELAX_BUDGET`] listings (the rarest always).
pub(crate) fn relaxed_expr(groups: &[Group], or: &str) -> String {
    let mut by_rarity: Vec<&Group> = groups.iter().collect();
    by_rarity.sort_by_key(|g| g.listings);
    let mut spent = 0;
    let mut chosen = Vec::new();
    for group in by_rarity {
        if !chosen.is_empty() && spent + group.listings > RELAX_BUDGET {
            break;
        }
        spent += group.listings;
        chosen.push(group.expr.as_str());
    }
    chosen.join(or)
}

/// The most clauses an "at least k of n" expression may have; a level with more is skipped.
pub const MAX_CLAUSES: usize = 20;

/// "At least `k` of `parts`" as an OR of ANDs in the index's syntax (`and`, `or`: FTS5's
/// `" AND "`/`" OR "`, tsquery's `" & "`/`" | "`); `None` when `k` is out of range or the
/// expression would pass [`MAX_CLAUSES`].
pub(crate) fn at_least(parts: &[String], k: usize, and: &str, or: &str) -> Option<String> {
    let n = parts.len();
    if k == 0 || k > n {
        return None;
    }
    // C(n, k) without overflow: stop counting once past the bound.
    let mut clauses: usize = 1;
    for i in 0..k.min(n - k) {
        clauses = clauses * (n - i) / (i + 1);
        if clauses > MAX_CLAUSES {
            return None;
        }
    }
    let mut out = Vec::with_capacity(clauses);
    let mut chosen: Vec<usize> = (0..k).collect();
    loop {
        let clause = chosen.iter().map(|&i| parts[i].as_str()).collect::<Vec<_>>();
        out.push(if k > 1 && clauses > 1 {
            format!("({})", clause.join(and))
        } else {
            clause.join(and)
        });
        // The next k-combination in lexical order.
        let Some(i) = (0..k).rev().find(|&i| chosen[i] < n - k + i) else {
            break;
        };
        chosen[i] += 1;
        for j in i + 1..k {
            chosen[j] = chosen[j - 1] + 1;
        }
    }
    Some(out.join(or))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_share_the_first_half_and_keep_the_most_alike() {
        assert_eq!(correction_range("sam"), None);
        let (low, high) = correction_range("samsng").expect("long enough");
        assert!("samsung" >= low.as_str() && "samsung" < high.as_str());
        for outside in ["sony", "sa", "salt"] {
            assert!(!(outside >= low.as_str() && outside < high.as_str()), "{outside}");
        }
        let words = ["samsung", "samba", "sample", "samsumg", "sam"]
            .iter()
            .map(|w| (w.to_string(), 1))
            .collect();
        // samsung is 0.44 alike; samsumg (0.30), sam, samba and sample are under the floor.
        assert_eq!(corrections("samsng", words), [("samsung".to_owned(), 1)]);
        // At most three, the most alike first.
        let many = ["samsnga", "samsngab", "samsngabc", "samsngabcd"]
            .iter()
            .map(|w| (w.to_string(), 2))
            .collect();
        let best: Vec<String> = corrections("samsng", many).into_iter().map(|(w, _)| w).collect();
        assert_eq!(best, ["samsnga", "samsngab", "samsngabc"]);
        assert!(best.iter().all(|w| similarity("samsng", w) >= TYPO_LIKENESS));
    }

    fn group(expr: &str, listings: i64) -> Group {
        Group {
            expr: expr.into(),
            listings,
        }
    }

    #[test]
    fn the_relaxed_read_keeps_the_rarest_terms_within_the_budget() {
        let groups = [
            group("\"gb\"", 40_000),
            group("\"laptop\"*", 900),
            group("\"16\"", 9_000),
            group("\"hp\"", 1_200),
        ];
        assert_eq!(relaxed_expr(&groups, " OR "), "\"laptop\"* OR \"hp\"");
        assert_eq!(relaxed_expr(&groups, " | "), "\"laptop\"* | \"hp\"");
        // The rarest term is read even when it alone passes the budget.
        assert_eq!(relaxed_expr(&[group("\"gb\"", 40_000)], " OR "), "\"gb\"");
    }

    #[test]
    fn a_prefix_range_holds_exactly_the_words_that_begin_with_it() {
        let (low, high) = prefix_range("sam");
        for word in ["sam", "samsung", "samba", "sam\u{e9}"] {
            assert!(word >= low.as_str() && word < high.as_str(), "{word}");
        }
        for word in ["sal", "san", "sa", "tam"] {
            assert!(!(word >= low.as_str() && word < high.as_str()), "{word}");
        }
    }

    #[test]
    fn a_group_brackets_its_alternatives_only_when_there_are_several() {
        assert_eq!(Group::any_of(Vec::new(), 0, " | "), None);
        assert_eq!(Group::any_of(vec!["a:*".into()], 3, " | "), Some(group("a:*", 3)));
        assert_eq!(Group::any_of(vec!["a".into(), "b".into()], 5, " OR "), Some(group("(a OR b)", 5)));
    }

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn at_least_k_of_n_is_every_k_combination() {
        let parts: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(at_least(&parts, 3, " AND ", " OR ").as_deref(), Some("a AND b AND c"));
        assert_eq!(
            at_least(&parts, 2, " & ", " | ").as_deref(),
            Some("(a & b) | (a & c) | (b & c)")
        );
        assert_eq!(at_least(&parts, 1, " AND ", " OR ").as_deref(), Some("a OR b OR c"));
        assert_eq!(at_least(&parts, 0, " AND ", " OR "), None);
        assert_eq!(at_least(&parts, 4, " AND ", " OR "), None);
        // C(8, 4) = 70 clauses is past the bound; C(8, 7) = 8 is not.
        let eight: Vec<String> = (0..8).map(|i| i.to_string()).collect();
        assert_eq!(at_least(&eight, 4, " AND ", " OR "), None);
        assert_eq!(
            at_least(&eight, 7, " AND ", " OR ").map(|e| e.matches(" OR ").count()),
            Some(7)
        );
    }
}
