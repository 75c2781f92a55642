//! Soko Ingest gateway: signed WhatsApp ingest, extraction and the product
//! chain. `main.rs` is a thin shell over [`startup::Application`].

pub mod config;
pub mod extract;
pub mod extraction;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod time;
