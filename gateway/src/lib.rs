//! Soko Ingest gateway: signed WhatsApp ingest, extraction and the product chain.

pub mod extract;
