//! What the search benchmarks share (`search.rs`, `search_hybrid.rs`): N offers + N products made
//! from the relevance set's catalogue (tests/search/) with seeded variations, loaded in one
//! transaction, the relevance set's queries, and percentile summaries.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use gateway::{
    metrics::Metrics,
    parse::search_text::index_text,
    store::{Database, Store, StoreSettings},
};
use rand::{Rng, SeedableRng, rngs::StdRng};

pub fn env(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

pub fn set_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/search")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub const EXTRA: [&str; 12] = [
    "clean",
    "sealed",
    "original",
    "offer",
    "wholesale",
    "new stock",
    "limited",
    "promo",
    "deal",
    "hot",
    "best price",
    "fast delivery",
];

/// `count` titles: catalogue titles with a seeded word and a number appended, so rows differ.
pub fn titles(count: usize, seed: u64) -> Vec<(String, String)> {
    let base: Vec<serde_json::Value> = set_file("catalogue.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let row = &base[i % base.len()];
            let title = format!(
                "{} {} {}",
                row["title"].as_str().unwrap_or_default(),
                EXTRA[rng.random_range(0..EXTRA.len())],
                rng.random_range(1..500)
            );
            (
                title,
                row["description"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Loads `n` offers and `n` products; returns their (title, description) pairs, offers first.
/// Offer ids are 1..=n in order; product ids are `product_id(i)`.
pub async fn load(db: &Database, n: usize) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let offers = titles(n, 1);
    let products = titles(n, 2);
    let started = Instant::now();
    macro_rules! fill {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await.expect("begin");
            sqlx::query("INSERT INTO chats (id, title, first_message_at_ms, last_message_at_ms) VALUES ('bench@g.us', 'Bench', 1, 1)")
                .execute(&mut *tx).await.expect("chat");
            sqlx::query("INSERT INTO messages (id, chat_id, client_id, request_id, content_hash, received_at_ms) VALUES (1, 'bench@g.us', 'b', 'r', $1, 1)")
                .bind(vec![0u8; 32]).execute(&mut *tx).await.expect("message");
            for (chunk_index, chunk) in offers.chunks(500).enumerate() {
                let mut sql = String::from("INSERT INTO offers (chat_id, source_message_pk, item_index, title, product_key, price, currency, span_start, span_end, source_text, message_received_at_ms, created_at_ms, updated_at_ms, search_text) VALUES ");
                let rows: Vec<String> = (0..chunk.len()).map(|r| format!("('bench@g.us', 1, ${}, ${}, '', ${}, 'KES', 0, 0, '', 1, 1, 1, ${})", r * 4 + 1, r * 4 + 2, r * 4 + 3, r * 4 + 4)).collect();
                sql.push_str(&rows.join(", "));
                let mut query = sqlx::query(&sql);
                for (i, (title, _)) in chunk.iter().enumerate() {
                    let index = i32::try_from(chunk_index * 500 + i).unwrap_or(i32::MAX);
                    query = query.bind(index).bind(title.clone()).bind(format!("{}", 1_000 + index * 7 % 90_000)).bind(index_text(&[Some(title)]));
                }
                query.execute(&mut *tx).await.expect("offers");
            }
            for (chunk_index, chunk) in products.chunks(500).enumerate() {
                let mut sql = String::from("INSERT INTO products (product_id, name, description, search_text, active, qc_decision, last_hydrated_at_ms, created_at_ms, updated_at_ms) VALUES ");
                let rows: Vec<String> = (0..chunk.len()).map(|r| format!("(${}, ${}, ${}, ${}, 1, 'approved', 1, 1, 1)", r * 4 + 1, r * 4 + 2, r * 4 + 3, r * 4 + 4)).collect();
                sql.push_str(&rows.join(", "));
                let mut query = sqlx::query(&sql);
                for (i, (title, description)) in chunk.iter().enumerate() {
                    let id = product_id(chunk_index * 500 + i);
                    query = query.bind(id).bind(title.clone()).bind(description.clone()).bind(index_text(&[Some(title), Some(description)]));
                }
                query.execute(&mut *tx).await.expect("products");
            }
            tx.commit().await.expect("commit");
        }};
    }
    match db {
        Database::Sqlite(pool) => fill!(pool),
        Database::Postgres(pool) => {
            fill!(pool);
            sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
        }
    }
    eprintln!(
        "loaded {n} offers + {n} products in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (offers, products)
}

/// The `i`-th loaded product's id.
pub fn product_id(i: usize) -> String {
    format!("{}", 9_000_000_000_000_000u64 + i as u64)
}

/// The relevance set's query texts.
pub fn queries() -> Vec<String> {
    let set: serde_json::Value = serde_json::from_str(&set_file("queries.json")).expect("queries.json");
    set["queries"].as_array().into_iter().flatten().filter_map(|q| q["q"].as_str()).map(str::to_owned).collect()
}

/// Opens (and migrates) the benchmark's database: `SEARCH_BENCH_DATABASE_URL`, else a SQLite
/// file in `dir`.
pub async fn open_store(dir: &std::path::Path, metrics: std::sync::Arc<Metrics>) -> (Store, String) {
    let url = env("SEARCH_BENCH_DATABASE_URL", &format!("sqlite://{}", dir.join("bench.db").display()));
    let settings = StoreSettings {
        database_url: url.clone(),
        max_connections: 10,
        write_groups: 2,
        acquire_timeout: Duration::from_secs(5),
        sqlite_cache_mb: 256,
        content_hash_window: Duration::from_secs(24 * 3_600),
        extract_debounce: Duration::from_secs(10),
        extract_max_wait: Duration::from_secs(60),
    };
    (Store::open(&settings, metrics).await.expect("store"), url)
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn summary(mut ms: Vec<f64>) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    serde_json::json!({ "n": ms.len(), "p50_ms": percentile(&ms, 0.5), "p95_ms": percentile(&ms, 0.95), "p99_ms": percentile(&ms, 0.99) })
}

