//! Soko Ingest gateway: signed WhatsApp ingest, extraction and the product
//! chain. `main.rs` is a thin shell over [`startup::Application`].
//!
//! The modules, in the order a message meets them (`docs/ARCHITECTURE.md`
//! draws the one-way dependencies between them):
//! - [`domain`]: plain records every layer shares;
//! - [`parse`]: pure parsers (offers, prices, phones, links);
//! - [`ingest`]: auth, limits, dedupe and the durable write of a batch;
//! - [`store`]: the database (SQLite or PostgreSQL) and its writers;
//! - [`extraction`]: the debounced job that turns messages into offers;
//! - [`jobs`]: the durable queue; [`pipeline`]: its stages;
//! - [`documents`]: vendor price lists (spreadsheets) read into offers, re-synced by difference;
//! - [`search`]: full-text search over offers and products, fused across retrievers;
//! - [`semantic`]: text and image vectors and the in-process index over them;
//! - [`http`]: the only layer that knows the web; [`app`]: its shared state;
//! - [`config`], [`startup`]: read the environment and wire it all together;
//! - [`document_cli`]: `gateway ingest`, a vendor document imported from the command line.

// Tests may unwrap; request paths may not (the workspace warns on `unwrap_used`).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod domain;
pub mod parse;
pub mod ingest;
pub mod store;
pub mod extraction;
pub mod jobs;
pub mod pipeline;
pub mod documents;
pub mod search;
pub mod semantic;
pub mod http;
pub mod app;
pub mod config;
pub mod startup;
pub mod document_cli;
pub mod metrics;
pub mod redis_link;
pub mod telemetry;
pub mod time;
