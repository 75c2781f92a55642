//! A vector retriever that fails while `mode` is not given leaves the text answer standing,
//! and that degraded answer is not cached: the next request asks the retriever again.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use super::{
    RawSearch, SearchError, SearchService,
    retriever::{Mode, Ranked, Retriever, RetrieverKind, SearchQuery},
    settings::SearchSettings,
};
use crate::{
    metrics::Metrics,
    store::{Store, StoreSettings},
};

/// A semantic retriever whose first call fails and whose later calls answer an empty list.
struct FlakyVectors {
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl Retriever for FlakyVectors {
    fn kind(&self) -> RetrieverKind {
        RetrieverKind::Semantic
    }

    async fn retrieve(&self, _query: &SearchQuery, _depth: usize) -> Result<Option<Vec<Ranked>>, SearchError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(SearchError::Retriever("the model failed".into()))
        } else {
            Ok(Some(Vec::new()))
        }
    }
}

#[tokio::test]
async fn a_degraded_answer_is_served_but_never_cached() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("degraded.db").display());
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let store = Store::open(&StoreSettings::for_tests(&url), metrics.clone()).await.expect("store");
    let flaky = Arc::new(FlakyVectors { calls: AtomicUsize::new(0) });
    let search = SearchService::new(store.db.clone(), &SearchSettings::default(), None, &metrics)
        .expect("search")
        .with_retriever(flaky.clone());
    let raw = || RawSearch { q: Some("sofa".into()), ..RawSearch::default() };

    let first = search.search(raw()).await.expect("the text answer stands");
    assert_eq!(first.mode, Mode::Text);
    let second = search.search(raw()).await.expect("second answer");
    assert_eq!(second.mode, Mode::Hybrid, "the degraded answer was served from the cache");
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 2);
    // A whole answer is cached as before: a third request does not reach the retriever.
    let third = search.search(raw()).await.expect("third answer");
    assert_eq!(third.mode, Mode::Hybrid);
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 2);
}
