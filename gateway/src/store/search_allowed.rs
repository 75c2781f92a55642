//! Which listings a search's filters let through, for retrievers that rank outside the
//! database (the vector index): the same filter clauses the full-text statement uses
//! (`search_index::filters`), run on their own, so a vector retriever applies the filters
//! inside its scan, before ranking, and never thins an already-truncated list. The common
//! case, no filter but "active products only", reads only the (few) inactive products.

use std::collections::HashSet;

use super::{
    Database, StoreError,
    queries::on_pool,
    search_index::{LINKED_OFFER, ListingFilter, ListingKind, VendorRef, filters},
};

/// The listings of one kind a filter keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// Every listing of the kind.
    All,
    /// Only these ids.
    Only(HashSet<String>),
    /// Every listing but these ids.
    Except(HashSet<String>),
}

impl Allowed {
    pub fn keeps(&self, id: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(ids) => ids.contains(id),
            Self::Except(ids) => !ids.contains(id),
        }
    }
}

/// Whether `filter` constrains anything but a product's activity.
fn narrows(filter: &ListingFilter) -> bool {
    filter.vendor.is_some()
        || filter.currency.is_some()
        || filter.price_min.is_some()
        || filter.price_max.is_some()
        || filter.condition.is_some()
}

/// The listings of `kind` that `filter` keeps.
pub async fn allowed(db: &Database, kind: ListingKind, filter: &ListingFilter) -> Result<Allowed, StoreError> {
    if !narrows(filter) {
        if kind == ListingKind::Offer || !filter.active_only {
            return Ok(Allowed::All);
        }
        let inactive: Vec<String> = on_pool!(db, |pool| {
            sqlx::query_scalar("SELECT product_id FROM products WHERE active = 0").fetch_all(pool).await?
        });
        return Ok(Allowed::Except(inactive.into_iter().collect()));
    }
    let sql = statement(db, kind);
    let (vendor_id, vendor_name) = match &filter.vendor {
        Some(VendorRef::Id(id)) => (Some(*id), None),
        Some(VendorRef::Name(name)) => (None, Some(name.clone())),
        None => (None, None),
    };
    let ids: Vec<String> = on_pool!(db, |pool| {
        let query = sqlx::query_scalar(&sql)
            .bind(Option::<i32>::None)
            .bind(vendor_id)
            .bind(vendor_name)
            .bind(filter.currency.clone())
            .bind(filter.price_min.clone())
            .bind(filter.price_max.clone())
            .bind(filter.condition.clone());
        let query = if kind == ListingKind::Product { query.bind(i32::from(filter.active_only)) } else { query };
        query.fetch_all(pool).await?
    });
    Ok(Allowed::Only(ids.into_iter().collect()))
}

/// `$1` is an unused NULL, so the filter clauses keep the numbers (`$2`..) the full-text
/// statement gives them.
fn statement(db: &Database, kind: ListingKind) -> String {
    let postgres = matches!(db, Database::Postgres(_));
    let clauses = filters(postgres, kind);
    let unused = if postgres { "$1::int IS NULL" } else { "$1 IS NULL" };
    match kind {
        ListingKind::Offer => format!(
            "SELECT CAST(o.id AS TEXT) FROM offers o LEFT JOIN vendors v ON v.id = o.vendor_id WHERE {unused} AND {clauses}"
        ),
        ListingKind::Product => format!(
            "SELECT p.product_id FROM products p LEFT JOIN chats c ON c.id = p.source_chat_id
             LEFT JOIN vendors v ON v.id = c.vendor_id {LINKED_OFFER} WHERE {unused} AND {clauses}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_sets_keep_what_they_say() {
        let set: HashSet<String> = ["1".to_owned(), "2".to_owned()].into_iter().collect();
        assert!(Allowed::All.keeps("9"));
        assert!(Allowed::Only(set.clone()).keeps("1"));
        assert!(!Allowed::Only(set.clone()).keeps("9"));
        assert!(!Allowed::Except(set.clone()).keeps("2"));
        assert!(Allowed::Except(set).keeps("9"));
    }

    #[test]
    fn only_real_filters_narrow() {
        let mut filter = ListingFilter { active_only: true, ..ListingFilter::default() };
        assert!(!narrows(&filter));
        filter.currency = Some("KES".into());
        assert!(narrows(&filter));
    }
}
