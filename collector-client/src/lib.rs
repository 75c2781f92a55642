//! Collector client: turns WhatsApp sources into signed ingest batches.
//!
//! `signing` and `message` are the wire contract shared with the harness and
//! the gateway's tests; keep their public API stable.

pub mod message;
pub mod signing;
