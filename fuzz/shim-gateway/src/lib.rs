//! The gateway's parsers alone, for the fuzz build: `parse/`, the hydrate
//! readers (`og.rs`, `charset.rs`, `page.rs`) and the ingest schema and
//! signature, compiled from the gateway's own files. Only the module tree
//! around them is written here, with the paths the gateway has.
#![forbid(unsafe_code)]

#[path = "../../../gateway/src/parse/mod.rs"]
pub mod parse;

pub mod ingest;
pub mod pipeline;
