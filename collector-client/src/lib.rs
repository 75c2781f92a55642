//! Collector client: turns WhatsApp sources into signed ingest batches.
//!
//! `signing` and `message` are the wire contract shared with the harness and
//! the gateway's tests; keep their public API stable.
//!
//! The rest: `export` maps chat exports (parsed by the `chat-export` crate)
//! to messages, `sources` reads stdin and watched directories, `relay`
//! receives bridge webhooks, `sender` batches, spools and delivers, `metrics`
//! and `status` report, `config` and `cli` are the command line.

pub mod cli;
pub mod config;
pub mod export;
pub mod message;
pub mod metrics;
mod private_fs;
pub mod relay;
pub mod sender;
pub mod signing;
pub mod sources;
pub mod status;

pub use metrics::{ConnectionStatus, Metrics};
pub use relay::{RelayConfig, RunningRelay, start_relay};
pub use sender::{DeliveryEvent, Drain, RetryPolicy, Sender, SenderConfig, SenderHandle};
pub use status::{RunningServer, start_status_server};
