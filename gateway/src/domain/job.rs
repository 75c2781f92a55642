//! The product chain's job stages, by the names the `jobs` table, the metrics
//! and the admin pages use. The chain runs them in this order.

pub mod stage {
    pub const SCOUT: &str = "scout";
    pub const HYDRATE: &str = "hydrate";
    pub const EMBED: &str = "embed";
    pub const QC: &str = "qc";
    pub const PERSIST: &str = "persist";
    /// Semantic search: an offer's or product's text vector (issue 15), beside the chain.
    pub const EMBED_TEXT: &str = "embed_text";
    /// A vendor document's import (issue 16), beside the chain.
    pub const IMPORT_DOCUMENT: &str = "import_document";

    /// Every stage: the chain in order, then the search index's, then document imports.
    pub const ALL: [&str; 7] = [SCOUT, HYDRATE, EMBED, QC, PERSIST, EMBED_TEXT, IMPORT_DOCUMENT];

    /// The `&'static str` for a stage name read from the database.
    pub fn from_name(name: &str) -> Option<&'static str> {
        ALL.into_iter().find(|s| *s == name)
    }
}

#[cfg(test)]
mod tests {
    use super::stage;

    #[test]
    fn names_round_trip() {
        for name in stage::ALL {
            assert_eq!(stage::from_name(name), Some(name));
        }
        assert_eq!(stage::from_name("index"), None);
    }
}
