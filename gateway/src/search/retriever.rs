//! The retriever abstraction: anything that turns a query into a ranked list of listing ids
//! (full text, and MiniLM vectors when a model is configured), and the `mode` a search reports,
//! computed from the retrievers that answered.

use serde::{Deserialize, Serialize};

use super::SearchError;
use crate::store::search_index::{ListingFilter, ListingKind};

/// What a retriever is asked: the normalised query, the kinds wanted and the filters, which
/// every retriever applies before it ranks (never to an already-truncated list).
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// The query as typed, trimmed.
    pub text: String,
    /// Its normalised, distinct terms (`parse::search_text::query_terms`).
    pub terms: Vec<String>,
    pub kinds: Vec<ListingKind>,
    pub filter: ListingFilter,
    /// The index generation read before the query (caches of derived data key on it).
    pub generation: i64,
}

/// One listing in a retriever's ranking, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub kind: ListingKind,
    pub id: String,
    /// The retriever's own score (higher is better); fusion uses only the rank.
    pub score: f64,
    /// The query terms this listing matched (empty for vector retrievers).
    pub matched: Vec<String>,
}

/// Which retriever a ranked list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RetrieverKind {
    Text,
    Semantic,
    Visual,
}

/// A retriever. `Ok(None)` means it is switched off (no model configured) and did not
/// answer; an answer may be an empty list.
#[async_trait::async_trait]
pub trait Retriever: Send + Sync {
    fn kind(&self) -> RetrieverKind;
    /// How far this retriever's own data has come, when it is not the database's (a vector
    /// index follows the database a poll behind): part of the answer cache's key, so a
    /// cached answer never outlives a newer vector.
    fn generation(&self) -> i64 {
        0
    }
    /// This retriever's weight in rank fusion (1 by default).
    fn fusion_weight(&self) -> f64 {
        1.0
    }
    /// At most `depth` listings matching `query`, best first.
    async fn retrieve(
        &self,
        query: &SearchQuery,
        depth: usize,
    ) -> Result<Option<Vec<Ranked>>, SearchError>;
}

/// What `mode` says: the one retriever that answered, or `hybrid` for more than one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = SearchMode)]
pub enum Mode {
    Text,
    Semantic,
    Visual,
    Hybrid,
}

impl Mode {
    /// `None` when no retriever answered.
    pub fn of(answered: &[RetrieverKind]) -> Option<Self> {
        let mut kinds = answered.to_vec();
        kinds.sort();
        kinds.dedup();
        match kinds.as_slice() {
            [] => None,
            [RetrieverKind::Text] => Some(Self::Text),
            [RetrieverKind::Semantic] => Some(Self::Semantic),
            [RetrieverKind::Visual] => Some(Self::Visual),
            _ => Some(Self::Hybrid),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Semantic => "semantic",
            Self::Visual => "visual",
            Self::Hybrid => "hybrid",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_names_the_retrievers_that_answered() {
        use RetrieverKind::*;
        assert_eq!(Mode::of(&[]), None);
        assert_eq!(Mode::of(&[Text]), Some(Mode::Text));
        assert_eq!(Mode::of(&[Semantic, Semantic]), Some(Mode::Semantic));
        assert_eq!(Mode::of(&[Visual]), Some(Mode::Visual));
        assert_eq!(Mode::of(&[Text, Semantic]), Some(Mode::Hybrid));
        assert_eq!(Mode::of(&[Semantic, Visual]), Some(Mode::Hybrid));
    }
}
