//! How the harness marks its own traffic, so that it can be told apart from
//! real vendors' messages and removed afterwards
//! (`gateway purge --client-prefix soko-load-`).
//!
//! Every batch the harness posts, smoke or load, carries a `client_id` that
//! starts with [`TEST_TRAFFIC_PREFIX`]: `soko-load-<run tag>` by default, or
//! `soko-load-<given>` when `--client-id` names one (a given id that already
//! starts with the prefix is kept as it is). Load chats also carry a
//! `chat_id` with the same prefix (`soko-load-<run tag>-chat-<n>`) and the
//! title `Soko Load <run tag> Chat <n>`; the smoke chat is
//! `soko-load-<run tag>-smoke`, titled `Smoke Chat <run tag>`. Message ids
//! are `load-<run tag>-<n>` and `smoke-<run tag>-<n>`.

/// The `client_id` prefix of all harness traffic. Documented in the
/// harness README; the gateway's purge and admin filters match on it.
pub const TEST_TRAFFIC_PREFIX: &str = "soko-load-";

/// The gateway accepts `client_id`s of at most this many characters.
pub const MAX_CLIENT_ID_CHARS: usize = 128;

/// The `client_id` a run sends: `--client-id` with the prefix added when it
/// lacks it, else the prefix and `default_suffix` (the run tag).
pub fn client_id(given: Option<&str>, default_suffix: &str) -> String {
    match given.map(str::trim).filter(|g| !g.is_empty()) {
        Some(given) if given.starts_with(TEST_TRAFFIC_PREFIX) => given.to_owned(),
        Some(given) => format!("{TEST_TRAFFIC_PREFIX}{given}"),
        None => format!("{TEST_TRAFFIC_PREFIX}{default_suffix}"),
    }
}

/// Whether `--client-id` still fits the gateway's limit once marked.
pub fn client_id_fits(given: Option<&str>) -> bool {
    client_id(given, "").chars().count() <= MAX_CLIENT_ID_CHARS
}

/// The `chat_id` prefix of load chat `n` is this followed by `n`.
pub fn load_chat_id_prefix(run_tag: &str) -> String {
    format!("{TEST_TRAFFIC_PREFIX}{run_tag}-chat-")
}

/// The one chat of a smoke run.
pub fn smoke_chat_id(run_tag: &str) -> String {
    format!("{TEST_TRAFFIC_PREFIX}{run_tag}-smoke")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_id_carries_the_prefix_once() {
        assert_eq!(client_id(None, "3f2a9c1b"), "soko-load-3f2a9c1b");
        assert_eq!(
            client_id(Some("perf-baseline"), "x"),
            "soko-load-perf-baseline"
        );
        assert_eq!(
            client_id(Some("soko-load-nightly"), "x"),
            "soko-load-nightly"
        );
        assert_eq!(client_id(Some("  "), "x"), "soko-load-x");
        assert_eq!(load_chat_id_prefix("ab12"), "soko-load-ab12-chat-");
        assert_eq!(smoke_chat_id("ab12"), "soko-load-ab12-smoke");
    }

    #[test]
    fn long_ids_are_refused_before_the_gateway_would() {
        assert!(client_id_fits(Some(
            &"a".repeat(MAX_CLIENT_ID_CHARS - TEST_TRAFFIC_PREFIX.len())
        )));
        assert!(!client_id_fits(Some(
            &"a".repeat(MAX_CLIENT_ID_CHARS - TEST_TRAFFIC_PREFIX.len() + 1)
        )));
        assert!(client_id_fits(None));
    }
}
