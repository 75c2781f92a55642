//! Semantic and hybrid search at scale (issue 15), on the text search benchmark's listings
//! (N offers + N products, default 100,000 each) with the real all-MiniLM-L6-v2:
//!
//! - **embedding throughput**: the catalogue's distinct texts through the model in batches of
//!   `SEARCH_EMBED_BATCH` (32), listings per second on this machine's cores;
//! - **vectors**: each listing gets its catalogue row's vector plus a little seeded noise (so 2N
//!   distinct vectors without embedding 2N texts), written to `listing_embeddings`;
//! - **index build**: `SemanticIndex::catch_up` reading every vector from the database and building
//!   the HNSW graph (the space holds 2N vectors, past `SEARCH_EXACT_BELOW`);
//! - **vector top-20** p50/p95 through the graph, and recall@20 against an exact scan;
//! - **uncached** text, semantic and hybrid queries through `SearchService`, and **cached** hybrid;
//! - **freshness**: a listing committed with its vector, then read back by text at once and by
//!   vector after one follower catch-up (the running follower polls every `SEARCH_INDEX_POLL_MS`).
//!
//! One JSON line. Not a timed test: nothing here asserts a speed. Driven by
//! `scripts/bench/search.sh hybrid` (or `cargo bench -p gateway --bench search_hybrid`).
//!
//! Env: SEARCH_BENCH_LISTINGS, SEARCH_BENCH_QUERIES, SEARCH_BENCH_DATABASE_URL as for `search`;
//! SEARCH_TEXT_MODEL_DIR (required: `scripts/export_minilm.py` writes it), ORT_DYLIB_PATH.

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use gateway::{
    metrics::Metrics,
    pipeline::embed::vector_to_le_bytes,
    search::{RawSearch, SearchService, SearchSettings, semantic_text::SemanticTextRetriever},
    semantic::{Effort, SemanticIndex, SemanticSettings, SpaceKind, TextEncoder},
    store::Database,
};
use rand::{Rng, SeedableRng, rngs::StdRng};

#[path = "support/search_fixture.rs"]
mod fixture;
use fixture::{env, load, open_store, product_id, queries, summary};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `base` plus seeded noise of norm about `scale`, back on the unit sphere.
fn jitter(base: &[f32], rng: &mut StdRng, scale: f32) -> Vec<f32> {
    let per = scale / (base.len() as f32).sqrt();
    let mut v: Vec<f32> = base.iter().map(|x| x + per * (rng.random::<f32>() * 2.0 - 1.0) * 1.732).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// Writes `rows` (kind, listing id, vector) into `listing_embeddings`, 400 to a statement.
async fn write_vectors(db: &Database, model_id: &str, rows: &[(&str, String, Vec<f32>)]) {
    for chunk in rows.chunks(400) {
        let mut sql = String::from(
            "INSERT INTO listing_embeddings (kind, listing_id, model_id, dims, vector, semantic_hash, source_updated_at_ms, created_at_ms, updated_at_ms) VALUES ",
        );
        let values: Vec<String> = (0..chunk.len())
            .map(|r| format!("(${}, ${}, ${}, ${}, ${}, 'bench', 1, 1, 1)", r * 5 + 1, r * 5 + 2, r * 5 + 3, r * 5 + 4, r * 5 + 5))
            .collect();
        sql.push_str(&values.join(", "));
        macro_rules! run {
            ($pool:expr) => {{
                let mut query = sqlx::query(&sql);
                for (kind, id, vector) in chunk {
                    query = query.bind(*kind).bind(id.clone()).bind(model_id.to_owned()).bind(vector.len() as i64).bind(vector_to_le_bytes(vector));
                }
                query.execute($pool).await.expect("vectors");
            }};
        }
        match db {
            Database::Sqlite(pool) => run!(pool),
            Database::Postgres(pool) => run!(pool),
        }
    }
}

async fn timed(search: &SearchService, requests: &[RawSearch]) -> (Vec<f64>, usize) {
    let (mut laps, mut results) = (Vec::new(), 0);
    for request in requests {
        let started = Instant::now();
        let answer = search.search(request.clone()).await.expect("search");
        laps.push(ms(started.elapsed()));
        results += answer.results.len();
    }
    (laps, results)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = env("SEARCH_BENCH_LISTINGS", "100000").parse().expect("SEARCH_BENCH_LISTINGS");
    let asked: usize = env("SEARCH_BENCH_QUERIES", "500").parse().expect("SEARCH_BENCH_QUERIES");
    let model_dir = PathBuf::from(env("SEARCH_TEXT_MODEL_DIR", ""));
    assert!(model_dir.join("text_search.onnx").is_file(), "set SEARCH_TEXT_MODEL_DIR to a scripts/export_minilm.py export");
    let ort = std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let encoder = TextEncoder::load(&model_dir, ort.as_deref(), cores).expect("the MiniLM export loads");
    let model_id = encoder.model_id().to_owned();

    let dir = tempfile::tempdir().expect("temp dir");
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let (store, url) = open_store(dir.path(), metrics.clone()).await;
    load(&store.db, n).await;

    // The catalogue's distinct texts through the model, as the embed_text job batches them.
    let texts: Vec<String> = fixture::set_file("catalogue.jsonl")
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|row| format!("{} {}", row["title"].as_str().unwrap_or_default(), row["description"].as_str().unwrap_or_default()))
        .collect();
    let started = Instant::now();
    let mut base_vectors = Vec::with_capacity(texts.len());
    for batch in texts.chunks(32) {
        base_vectors.extend(encoder.encode(batch.to_vec()).await.expect("encode"));
    }
    let embed_s = started.elapsed().as_secs_f64();
    let mut rng = StdRng::seed_from_u64(7);
    let mut rows: Vec<(&str, String, Vec<f32>)> = Vec::with_capacity(2 * n);
    for i in 0..n {
        rows.push(("offer", (i + 1).to_string(), jitter(&base_vectors[i % base_vectors.len()], &mut rng, 0.15)));
        rows.push(("product", product_id(i), jitter(&base_vectors[i % base_vectors.len()], &mut rng, 0.15)));
    }
    let started = Instant::now();
    write_vectors(&store.db, &model_id, &rows).await;
    let write_s = started.elapsed().as_secs_f64();
    drop(rows);

    // SEARCH_BENCH_EFFORT=<ef_search>,<code_candidates> overrides the defaults for every query.
    let configured = env("SEARCH_BENCH_EFFORT", "").split_once(',').and_then(|(ef, codes)| Some(Effort { ef_search: ef.parse().ok()?, code_candidates: codes.parse().ok()? }));
    let effort = configured.unwrap_or_else(|| SemanticSettings::default().effort());
    let settings = SemanticSettings {
        text_model_dir: Some(model_dir.clone()),
        ef_search: effort.ef_search,
        code_candidates: effort.code_candidates,
        ..SemanticSettings::default()
    };
    let index = SemanticIndex::new(store.db.clone(), settings, Some(encoder.clone()), None);
    let started = Instant::now();
    let read = index.catch_up().await.expect("catch up");
    let build_s = started.elapsed().as_secs_f64();
    assert!(index.uses_ann(SpaceKind::Text), "{read} vectors should be past SEARCH_EXACT_BELOW");

    // Vector top-20 alone, and its recall against the exact scan, on the queries' own vectors.
    let queries = queries();
    let mut query_vectors = Vec::new();
    for q in &queries {
        query_vectors.push(index.text_vector(q).await.expect("query vector"));
    }
    let truths: Vec<HashSet<_>> = query_vectors
        .iter()
        .map(|v| index.query_exact(SpaceKind::Text, v, 20).into_iter().map(|(k, _)| k).collect())
        .collect();
    // The configured effort (SEARCH_INDEX_EF_SEARCH, SEARCH_INDEX_CODE_CANDIDATES), the graph's
    // walk alone at several widths, and the sign codes' pass at several sizes beside the walk.
    let walk = |effort: Effort| {
        let (mut laps, mut hit, mut total) = (Vec::new(), 0usize, 0usize);
        for (v, truth) in query_vectors.iter().zip(&truths) {
            let started = Instant::now();
            let found = index.query_vector_with(SpaceKind::Text, v, 20, effort, &|_| true);
            laps.push(ms(started.elapsed()));
            hit += found.iter().filter(|(k, _)| truth.contains(k)).count();
            total += truth.len();
        }
        (laps, hit as f64 / total.max(1) as f64)
    };
    let (ann_laps, recall) = walk(effort);
    let sweep_point = |effort: Effort| {
        let (laps, recall) = walk(effort);
        serde_json::json!({ "ef_search": effort.ef_search, "code_candidates": effort.code_candidates, "recall_at_20": recall, "top20": summary(laps) })
    };
    let sweep: Vec<serde_json::Value> = [64usize, 128, 256, 512, 1024]
        .into_iter()
        .map(|ef| sweep_point(Effort { ef_search: ef, code_candidates: 0 }))
        .chain([500usize, 1_000, 2_000, 4_000].into_iter().map(|codes| sweep_point(Effort { code_candidates: codes, ..effort })))
        .collect();
    let started = Instant::now();
    for q in queries.iter().take(50) {
        std::hint::black_box(index.text_vector(q).await.expect("query vector"));
    }
    let query_embed_ms = ms(started.elapsed()) / queries.len().min(50) as f64;

    let search = SearchService::new(store.db.clone(), &SearchSettings::default(), None, &metrics)
        .expect("search")
        .with_retriever(Arc::new(SemanticTextRetriever::new(store.db.clone(), index.clone())));
    let requests = |mode: &str| -> Vec<RawSearch> {
        (0..asked)
            .map(|i| RawSearch {
                q: Some(queries[i % queries.len()].clone()),
                limit: Some(format!("{}", 10 + i / queries.len())),
                mode: Some(mode.to_owned()),
                ..RawSearch::default()
            })
            .collect()
    };
    let (text_laps, _) = timed(&search, &requests("text")).await;
    let (semantic_laps, _) = timed(&search, &requests("semantic")).await;
    let (hybrid_laps, results) = timed(&search, &requests("hybrid")).await;
    let (cached_laps, _) = timed(&search, &requests("hybrid")).await;

    // Freshness: commit a listing and its vector, then look for it.
    let title = "Zanzibar teak daybed with rattan back";
    let committed = Instant::now();
    let offer_id = fresh_offer(&store.db, title).await;
    let text_visible = loop {
        let answer = search.search(RawSearch { q: Some("zanzibar daybed".into()), mode: Some("text".into()), ..RawSearch::default() }).await.expect("search");
        if answer.results.iter().any(|r| r.id == offer_id) {
            break committed.elapsed();
        }
        assert!(committed.elapsed() < Duration::from_secs(10), "the new offer never showed");
    };
    let vector = index.text_vector(title).await.expect("vector");
    let committed = Instant::now();
    write_vectors(&store.db, &model_id, &[("offer", offer_id.clone(), vector.clone())]).await;
    // Follower passes until the vector is the top hit (a pass can come before the row is
    // visible to it, on PostgreSQL especially); the time is the commit to the first pass
    // that finds it.
    let vector_visible = loop {
        index.catch_up().await.expect("catch up");
        let found = index.query_vector(SpaceKind::Text, &vector, 1, &|_| true);
        if found.first().map(|(k, _)| k.id.as_str()) == Some(offer_id.as_str()) {
            break committed.elapsed();
        }
        assert!(committed.elapsed() < Duration::from_secs(10), "the new vector never showed: {found:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };

    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let line = serde_json::json!({
        "backend": backend, "offers": n, "products": n, "cores": cores, "model_id": model_id,
        "embed_listings_per_s": texts_per_s(base_vectors.len(), embed_s),
        "query_embed_ms": query_embed_ms,
        "vectors_written_s": write_s,
        "index_build": { "vectors": read, "seconds": build_s },
        "vector_top20": summary(ann_laps),
        "recall_at_20": recall,
        "effort": { "ef_search": effort.ef_search, "code_candidates": effort.code_candidates }, "effort_sweep": sweep,
        "uncached_text": summary(text_laps), "uncached_semantic": summary(semantic_laps),
        "uncached_hybrid": summary(hybrid_laps), "cached_hybrid": summary(cached_laps),
        "mean_hybrid_results": results as f64 / asked.max(1) as f64,
        "visible_after_commit_ms": { "text": ms(text_visible), "vector_catch_up": ms(vector_visible) },
    });
    println!("{line}");
}

fn texts_per_s(count: usize, seconds: f64) -> f64 {
    count as f64 / seconds.max(1e-9)
}

/// Commits one offer (in the benchmark's chat) and returns its id.
async fn fresh_offer(db: &Database, title: &str) -> String {
    let text = gateway::parse::search_text::index_text(&[Some(title)]);
    let sql = "INSERT INTO offers (chat_id, source_message_pk, item_index, title, product_key, price, currency, span_start, span_end, source_text, message_received_at_ms, created_at_ms, updated_at_ms, search_text)
               VALUES ('bench@g.us', 1, 9999999, $1, '', '25000', 'KES', 0, 0, '', 1, 1, 1, $2) RETURNING id";
    let id: i64 = match db {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).bind(title).bind(text).fetch_one(pool).await.expect("offer"),
        Database::Postgres(pool) => sqlx::query_scalar(sql).bind(title).bind(text).fetch_one(pool).await.expect("offer"),
    };
    id.to_string()
}
