//! Text search latency at scale (issue 15): N offers + N products (default 100,000 each) made
//! from the relevance set's catalogue with seeded variations, loaded into a fresh SQLite file
//! (or `SEARCH_BENCH_DATABASE_URL`, a PostgreSQL database), then the relevance set's queries
//! through `SearchService` (the route's code without HTTP): p50/p95/p99 uncached (each query
//! and page size asked once) and cached (the same asked again). One JSON line per backend.
//! Driven by `scripts/bench/search.sh`. Not a timed test: nothing here asserts a speed.
//!
//! Env: SEARCH_BENCH_LISTINGS (100000 of each kind), SEARCH_BENCH_DATABASE_URL,
//! SEARCH_BENCH_QUERIES (how many uncached queries, default 500), SEARCH_BENCH_SLOWEST (print
//! that many of the slowest uncached queries on stderr, default 0).

use std::{sync::Arc, time::Instant};

use gateway::{
    metrics::Metrics,
    search::{RawSearch, SearchService, SearchSettings},
};

#[path = "support/search_fixture.rs"]
mod fixture;
use fixture::{env, load, open_store, queries, summary};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = env("SEARCH_BENCH_LISTINGS", "100000")
        .parse()
        .expect("SEARCH_BENCH_LISTINGS");
    let asked: usize = env("SEARCH_BENCH_QUERIES", "500")
        .parse()
        .expect("SEARCH_BENCH_QUERIES");
    let dir = tempfile::tempdir().expect("temp dir");
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let (store, url) = open_store(dir.path(), metrics.clone()).await;
    load(&store.db, n).await;
    let search = SearchService::new(store.db.clone(), &SearchSettings::default(), None, &metrics)
        .expect("search");
    let queries = queries();
    // Distinct (query, limit) pairs: each is a cache miss the first time.
    let requests: Vec<RawSearch> = (0..asked)
        .map(|i| RawSearch {
            q: Some(queries[i % queries.len()].clone()),
            limit: Some(format!("{}", 10 + i / queries.len())),
            ..RawSearch::default()
        })
        .collect();
    let (mut uncached, mut cached, mut results) = (Vec::new(), Vec::new(), 0usize);
    let mut by_query: Vec<(f64, String)> = Vec::new();
    for request in &requests {
        let started = Instant::now();
        let answer = search.search(request.clone()).await.expect("search");
        let ms = started.elapsed().as_secs_f64() * 1e3;
        uncached.push(ms);
        by_query.push((ms, request.q.clone().unwrap_or_default()));
        results += answer.results.len();
    }
    // The tail's queries, on stderr: what a p95 is made of.
    by_query.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, q) in by_query.iter().take(env("SEARCH_BENCH_SLOWEST", "0").parse().unwrap_or(0)) {
        eprintln!("slow {ms:8.2} ms  {q}");
    }
    for request in &requests {
        let started = Instant::now();
        search.search(request.clone()).await.expect("search");
        cached.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let backend = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let line = serde_json::json!({
        "backend": backend, "offers": n, "products": n, "kind": "all",
        "mean_results": results as f64 / requests.len().max(1) as f64,
        "uncached": summary(uncached), "cached": summary(cached),
    });
    println!("{line}");
}
