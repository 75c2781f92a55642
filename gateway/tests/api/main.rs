//! Gateway integration tests: one binary, real app on port 0, real database
//! per test (SQLite by default, PostgreSQL with `TEST_DATABASE=postgres`).

mod crash;
mod dedupe;
mod helpers;
mod ingest_errors;
mod ingest_success;
mod ops;
mod rotation;
