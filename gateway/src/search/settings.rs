//! What search is configured with (`config` reads `SEARCH_CACHE_TTL_SECONDS`).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SearchSettings {
    /// How long an answer stays cached (seed 004: one hour).
    pub cache_ttl: Duration,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(3_600),
        }
    }
}
