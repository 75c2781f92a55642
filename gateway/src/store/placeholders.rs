//! Bind-parameter lists for multi-row statements, per dialect.
//!
//! SQLite gets anonymous `?` parameters. It files every numbered one (`$7`, `?7`) under a name
//! and looks names up in a linear list, once when it parses the statement and again when sqlx
//! asks each parameter's name to bind it, so a statement with thousands of numbered parameters
//! costs time quadratic in their count: a 5,000-row document import spent over a third of the
//! gateway's CPU in `sqlite3VListNumToName` and `strncmp` (`perf record`, 2026-12-07). With `?`
//! the list stays empty and values bind in the order the text names them. PostgreSQL only takes
//! `$N`.

/// `rows` parenthesised groups of `columns` parameters, comma-separated. On PostgreSQL they are
/// numbered from `$first + 1`; on SQLite they are `?`, bound in the order they appear in the text.
pub fn rows(postgres: bool, rows: usize, columns: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * (columns * if postgres { 7 } else { 3 } + 4));
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            if postgres {
                out.push('$');
                out.push_str(&(first + r * columns + c + 1).to_string());
            } else {
                out.push('?');
            }
        }
        out.push(')');
    }
    out
}

/// `count` SQLite parameters for an `IN (…)` list: `?, ?, …`.
pub fn sqlite_list(count: usize) -> String {
    let mut out = String::with_capacity(count * 3);
    for i in 0..count {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('?');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_numbers_follow_the_first_and_sqlite_is_anonymous() {
        assert_eq!(rows(true, 2, 3, 4), "($5, $6, $7), ($8, $9, $10)");
        assert_eq!(rows(false, 2, 3, 4), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(rows(true, 0, 3, 0), "");
        assert_eq!(sqlite_list(3), "?, ?, ?");
        assert_eq!(sqlite_list(0), "");
    }
}
