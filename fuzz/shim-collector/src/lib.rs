//! The collector's parsers alone, for the fuzz build: the chat-export reader
//! and the request signer, compiled from the collector's own files with the
//! module paths the collector has (`export.rs` names `crate::message`).
#![forbid(unsafe_code)]

#[path = "../../../collector-client/src/export.rs"]
pub mod export;
#[path = "../../../collector-client/src/message.rs"]
pub mod message;
#[path = "../../../collector-client/src/signing.rs"]
pub mod signing;
