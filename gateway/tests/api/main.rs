//! Gateway integration tests: one binary, real app on port 0, real database
//! per test (SQLite by default, PostgreSQL with `TEST_DATABASE=postgres`).

mod access;
mod admin;
mod admin_console;
mod bounded_state;
mod browser;
mod chain;
mod crash;
mod dedupe;
mod diagnostics;
mod extraction;
mod fan_out;
mod fence;
mod helpers;
mod ingest_errors;
mod ingest_success;
mod market;
mod meta;
mod openapi;
mod ops_small_fixes;
mod media_e2e;
mod ops;
mod page_fixture;
mod purge;
mod replays;
mod search;
mod search_relevance;
mod rotation;
mod scaleout;
mod scaleout_jobs;
mod scaleout_support;
mod senders;
mod semantic;
mod standard_webhooks;
mod token_ceiling;
mod wa_fixture;
