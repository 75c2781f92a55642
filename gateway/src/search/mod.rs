//! Search over offers and products (issue 15): a checked request, the retrievers that
//! answer it (full text, and MiniLM vectors when `SEARCH_TEXT_MODEL_DIR` is set),
//! reciprocal rank fusion when more than one answers, the page read back from the store,
//! and the answer cache keyed by the index generation. Sits between `store` and `app`.

pub mod cache;
pub mod fusion;
pub mod metrics;
pub mod request;
pub mod retriever;
pub mod semantic_text;
pub mod settings;
pub mod text;

use std::{collections::HashMap, sync::Arc, time::Instant};

use serde::{Deserialize, Serialize};

pub use request::{RawSearch, SearchRequest, Wanted};
pub use retriever::{Mode, Ranked, Retriever, RetrieverKind, SearchQuery};
pub use settings::SearchSettings;

use crate::{
    metrics::Metrics,
    redis_link::RedisLink,
    store::{
        Database, StoreError,
        search_index::{self, ListingKind},
        search_rows,
    },
};
use cache::SearchCache;
use metrics::SearchMetrics;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The request is malformed: 400 with this message.
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A retriever other than the store's failed (a model, an index).
    #[error("retriever failed: {0}")]
    Retriever(String),
    /// `mode=semantic` or `mode=hybrid` without `SEARCH_TEXT_MODEL_DIR`: 503.
    #[error("no embedding model configured")]
    NotConfigured,
}

/// One listing of an answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchResult {
    /// `offer` or `product`.
    #[schema(example = "offer")]
    pub kind: String,
    /// The offer's id (as a string) or the product's WhatsApp id.
    pub id: String,
    pub title: String,
    /// Exact decimal as a string; a product's is its newest linking offer's.
    pub price: Option<String>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// Offers: the vendor's name (null until the chat is mapped).
    pub vendor: Option<String>,
    /// Offers: the chat's title.
    pub chat_title: Option<String>,
    /// Products: the mapped vendor's name, else the seller's phone.
    pub seller: Option<String>,
    /// Our copy of the image, else the source's (a product's `display_image_url`).
    pub image_url: Option<String>,
    /// Relevance (higher is better): the text ranking's score, or the fused RRF score.
    pub score: f64,
    /// The query terms (normalised) this listing matched.
    pub matched: Vec<String>,
}

/// What the cache keeps: the answer without its timing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedAnswer {
    pub results: Vec<SearchResult>,
    pub next_cursor: Option<String>,
    pub mode: Mode,
}

/// `GET /search`'s answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchAnswer {
    pub results: Vec<SearchResult>,
    /// Present when more results follow: pass it as `cursor`.
    pub next_cursor: Option<String>,
    /// Time spent answering, in milliseconds.
    pub took_ms: f64,
    /// The retrievers that answered: `text`, `semantic`, `visual` or `hybrid`.
    pub mode: Mode,
}

/// How deep each list is read when several are fused.
pub const FUSION_DEPTH: usize = 50;

pub struct SearchService {
    db: Database,
    retrievers: Vec<Arc<dyn Retriever>>,
    cache: SearchCache,
    metrics: SearchMetrics,
}

impl SearchService {
    /// The full-text retriever over `db`, and the cache (Redis when `redis` is given).
    pub fn new(
        db: Database,
        settings: &SearchSettings,
        redis: Option<Arc<RedisLink>>,
        metrics: &Metrics,
    ) -> Result<Self, prometheus::Error> {
        let metrics = SearchMetrics::register(metrics)?;
        let cache = SearchCache::new(settings.cache_ttl, redis, metrics.cache.clone());
        let text: Arc<dyn Retriever> = Arc::new(text::TextRetriever::new(db.clone()));
        Ok(Self {
            db,
            retrievers: vec![text],
            cache,
            metrics,
        })
    }

    /// Adds a retriever (semantic, visual); its list is fused with the others'.
    pub fn with_retriever(mut self, retriever: Arc<dyn Retriever>) -> Self {
        self.retrievers.push(retriever);
        self
    }

    /// Checks `raw`, answers from the cache or the retrievers, and counts the outcome.
    pub async fn search(&self, raw: RawSearch) -> Result<SearchAnswer, SearchError> {
        let started = Instant::now();
        let outcome = self.run(raw).await;
        let elapsed = started.elapsed();
        match &outcome {
            Ok(answer) => self.metrics.observe(Some(answer.mode), "ok", elapsed),
            Err(SearchError::BadRequest(_)) => self.metrics.observe(None, "bad_request", elapsed),
            Err(SearchError::NotConfigured) => self.metrics.observe(None, "unavailable", elapsed),
            Err(_) => self.metrics.observe(None, "error", elapsed),
        }
        outcome.map(|cached| SearchAnswer {
            results: cached.results.clone(),
            next_cursor: cached.next_cursor.clone(),
            took_ms: elapsed.as_secs_f64() * 1_000.0,
            mode: cached.mode,
        })
    }

    async fn run(&self, raw: RawSearch) -> Result<Arc<CachedAnswer>, SearchError> {
        let request = raw.check()?;
        // Read before the query: an answer is never stored under a generation newer than its data.
        // The vector retrievers' watermarks too: a vector that lands after the listing's
        // commit changes the answer without moving the database's generation.
        let generation = search_index::generation(&self.db).await?;
        let followed: Vec<i64> = self.retrievers.iter().map(|r| r.generation()).collect();
        let key = cache::key(generation, &followed, &request);
        if let Some(hit) = self.cache.get(&key).await {
            return Ok(hit);
        }
        let (answer, degraded) = self.answer(&request, generation).await?;
        let answer = Arc::new(answer);
        // A text-only answer given because a vector retriever failed is not kept: the next
        // request tries the retriever again instead of reading the degraded answer for an hour.
        if !degraded {
            self.cache.put(key, answer.clone()).await;
        }
        Ok(answer)
    }

    /// The answer, and whether a retriever failed and was left out (a degraded answer).
    async fn answer(&self, request: &SearchRequest, generation: i64) -> Result<(CachedAnswer, bool), SearchError> {
        let query = SearchQuery {
            text: request.text.clone(),
            terms: request.terms.clone(),
            kinds: request.kinds.clone(),
            filter: request.filter.clone(),
            generation,
        };
        // One more than the page, so we know whether another follows.
        let depth = request.offset + request.limit + 1;
        let asked: &[RetrieverKind] = match request.wanted {
            Wanted::Configured => &[RetrieverKind::Text, RetrieverKind::Semantic],
            Wanted::Text => &[RetrieverKind::Text],
            Wanted::Semantic => &[RetrieverKind::Semantic],
            Wanted::Hybrid => &[RetrieverKind::Text, RetrieverKind::Semantic],
        };
        let explicit = request.wanted != Wanted::Configured;
        // Fused lists go deeper than the page: a listing second-tier in both lists belongs
        // above one that only a single list ranks first.
        let depth = if asked.len() > 1 { depth.max(FUSION_DEPTH) } else { depth };
        let mut answered = Vec::new();
        let mut degraded = false;
        let mut lists: Vec<(f64, Vec<Ranked>)> = Vec::new();
        // The retrievers run side by side: the text one waits on the database while the
        // semantic one embeds the query, so a hybrid answer costs the slower of the two.
        let chosen: Vec<_> = self.retrievers.iter().filter(|r| asked.contains(&r.kind())).collect();
        let answers = futures_util::future::join_all(chosen.iter().map(|r| r.retrieve(&query, depth))).await;
        for (retriever, answer) in chosen.into_iter().zip(answers) {
            match answer {
                Ok(Some(list)) => {
                    answered.push(retriever.kind());
                    lists.push((retriever.fusion_weight(), list));
                }
                Ok(None) if explicit => return Err(SearchError::NotConfigured),
                Ok(None) => {}
                // Unasked for by name, a failing vector retriever leaves the text answer standing.
                Err(SearchError::Retriever(reason)) if !explicit => {
                    tracing::warn!(retriever = ?retriever.kind(), %reason, "a search retriever failed; answering without it");
                    degraded = true;
                }
                Err(error) => return Err(error),
            }
        }
        if explicit && answered.len() != asked.len() {
            return Err(SearchError::NotConfigured);
        }
        let mode = Mode::of(&answered)
            .ok_or_else(|| SearchError::Retriever("no retriever answered".into()))?;
        let ranked = match lists.len() {
            1 => lists.pop().map(|(_, list)| list).unwrap_or_default(),
            _ => {
                let weighted: Vec<(f64, &[Ranked])> = lists.iter().map(|(w, l)| (*w, l.as_slice())).collect();
                fusion::weighted_reciprocal_rank_fusion(&weighted, fusion::RRF_K)
            }
        };
        let more = ranked.len() > request.offset + request.limit;
        let page: Vec<Ranked> = ranked
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .collect();
        let results = self.read_page(&page).await?;
        let next_cursor = more.then(|| request::encode_cursor(request.offset + request.limit));
        Ok((
            CachedAnswer {
                results,
                next_cursor,
                mode,
            },
            degraded,
        ))
    }

    /// The page's listings, in rank order (a listing deleted meanwhile is left out).
    async fn read_page(&self, page: &[Ranked]) -> Result<Vec<SearchResult>, SearchError> {
        let mut rows = HashMap::new();
        for kind in [ListingKind::Offer, ListingKind::Product] {
            let ids: Vec<String> = page
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| r.id.clone())
                .collect();
            for (id, row) in search_rows::listings(&self.db, kind, &ids).await? {
                rows.insert((kind, id), row);
            }
        }
        Ok(page
            .iter()
            .filter_map(|ranked| {
                let row = rows.remove(&(ranked.kind, ranked.id.clone()))?;
                Some(SearchResult {
                    kind: ranked.kind.as_str().to_owned(),
                    id: row.id,
                    title: row.title,
                    price: row.price,
                    currency: row.currency,
                    vendor: row.vendor,
                    chat_title: row.chat_title,
                    seller: row.seller,
                    image_url: row.image_url,
                    score: ranked.score,
                    matched: ranked.matched.clone(),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod degraded_tests;
