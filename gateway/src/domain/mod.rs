//! Plain data shared by the layers, and the pure functions on it: the batch
//! that ingest prepares and the store writes, the content hash, the failure
//! records and dropped-link counts, and the offer, product and job records. Nothing here knows sqlx,
//! actix or any other module of the crate; every layer depends on this one.

pub mod document;
pub mod failure;
pub mod fan_out;
pub mod job;
pub mod message;
pub mod offer;
pub mod product;

pub use document::{DocumentCounts, DocumentRow, DocumentStatus, RowError};
pub use failure::{FailureCounter, FailureFlush, FailureRecord};
pub use fan_out::{LinkDropReason, LinkDrops};
pub use message::{MessageOutcome, PreparedBatch, PreparedMessage};
pub use offer::Offer;
pub use product::Product;
