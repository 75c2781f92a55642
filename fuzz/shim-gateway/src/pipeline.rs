//! `gateway::pipeline`: the hydrate page readers only.

pub mod hydrate;
