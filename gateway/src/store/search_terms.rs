//! The boolean expressions that the text lookups send to the index, built from query terms
//! alone (no database): a term quoted for FTS5, the words a prefix spans, "at least k of n
//! terms" in FTS5's or tsquery's syntax, and the "any term, rarest first" read that stays
//! within a budget of listings. `search_words.rs` (SQLite) and `search_pg.rs` use them.

/// The most listings one "at least k of n terms" read takes (newest first), unless the
/// caller asks more.
pub const STRICT_CAP: usize = 500;
/// The most listings (by the vocabulary's counts) that the "some terms" read may touch.
pub const RELAX_BUDGET: i64 = 5_000;

/// One term as the index is asked for it, and how many listings hold it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub(crate) expr: String,
    pub(crate) listings: i64,
}

pub(crate) fn quoted(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// The (inclusive, exclusive) bounds of the words that begin with `prefix`.
pub(crate) fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}

/// The "some terms" expression: the rarest groups first, within [`RELAX_BUDGET`] listings
/// (the rarest always).
pub(crate) fn relaxed_expr(groups: &[Group]) -> String {
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
    chosen.join(" OR ")
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
        assert_eq!(relaxed_expr(&groups), "\"laptop\"* OR \"hp\"");
        // The rarest term is read even when it alone passes the budget.
        assert_eq!(relaxed_expr(&[group("\"gb\"", 40_000)]), "\"gb\"");
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
