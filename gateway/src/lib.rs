//! Soko Ingest gateway: signed WhatsApp ingest, extraction and the product
//! chain. `main.rs` is a thin shell over [`startup::Application`].

// Tests may unwrap; request paths may not (the workspace warns on `unwrap_used`).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod config;
pub mod extract;
pub mod extraction;
pub mod http;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod pipeline;
pub mod redis_link;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod time;
