//! User-Agent rotation for hydrate fetches. Product pages answer link-preview bots and mobile
//! browsers with the static Open Graph page, so the pool mixes both kinds; rotating them
//! spreads requests across the agent-keyed limits a CDN may apply (seed 001, "Headless
//! Detection").

use std::sync::atomic::{AtomicUsize, Ordering};

/// The default pool: link-preview fetchers first, then current mobile browsers.
pub const DEFAULT_USER_AGENTS: &[&str] = &[
    "WhatsApp/2.24.10.85 A",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; TECNO KI5q) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.165 Mobile Safari/537.36",
];

/// Longest agent accepted from configuration.
const MAX_AGENT_LEN: usize = 512;

/// Why a configured agent list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserAgentError {
    #[error("the User-Agent list is empty")]
    Empty,
    #[error("User-Agent #{index} is not a valid header value (visible ASCII only, at most {MAX_AGENT_LEN} bytes)")]
    InvalidAgent { index: usize },
}

/// A fixed, non-empty set of agents handed out round-robin; shared across workers.
#[derive(Debug)]
pub struct UserAgentPool {
    agents: Box<[String]>,
    cursor: AtomicUsize,
}

impl Default for UserAgentPool {
    fn default() -> Self {
        Self {
            agents: DEFAULT_USER_AGENTS.iter().map(|s| (*s).to_owned()).collect(),
            cursor: AtomicUsize::new(0),
        }
    }
}

impl UserAgentPool {
    /// Builds a pool from explicit agents (trimmed; blank entries dropped).
    pub fn new<I, S>(agents: I) -> Result<Self, UserAgentError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut kept = Vec::new();
        for (index, agent) in agents.into_iter().enumerate() {
            let agent = agent.as_ref().trim();
            if agent.is_empty() {
                continue;
            }
            if agent.len() > MAX_AGENT_LEN || !agent.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return Err(UserAgentError::InvalidAgent { index });
            }
            kept.push(agent.to_owned());
        }
        if kept.is_empty() {
            return Err(UserAgentError::Empty);
        }
        Ok(Self { agents: kept.into_boxed_slice(), cursor: AtomicUsize::new(0) })
    }

    /// Parses a configured list separated by newlines or commas. Commas inside parentheses
    /// belong to the agent (`(KHTML, like Gecko)`), so only top-level commas separate.
    pub fn parse_list(list: &str) -> Result<Self, UserAgentError> {
        Self::new(split_agent_list(list))
    }

    /// The next agent, round-robin. Lock-free; safe from any number of workers.
    pub fn next(&self) -> &str {
        let i = self.cursor.fetch_add(1, Ordering::Relaxed) % self.agents.len();
        self.agents.get(i).map_or("", String::as_str)
    }

    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// Always false: a pool is never built empty. Present for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }

    pub fn agents(&self) -> &[String] {
        &self.agents
    }
}

fn split_agent_list(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '\n' | '\r' => {
                parts.push(list.get(start..i).unwrap_or_default());
                start = i + 1;
                depth = 0;
            }
            ',' if depth == 0 => {
                parts.push(list.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(list.get(start..).unwrap_or_default());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_pool_rotates_through_every_agent() {
        let pool = UserAgentPool::default();
        let n = pool.len();
        let first: Vec<String> = (0..n).map(|_| pool.next().to_owned()).collect();
        let second: Vec<String> = (0..n).map(|_| pool.next().to_owned()).collect();
        assert_eq!(first, DEFAULT_USER_AGENTS);
        assert_eq!(first, second);
    }

    #[test]
    fn comma_list_keeps_commas_inside_parentheses() {
        let pool = UserAgentPool::parse_list(
            "Twitterbot/1.0, Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126 Mobile,WhatsApp/2.24 A",
        )
        .unwrap();
        assert_eq!(
            pool.agents(),
            ["Twitterbot/1.0", "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126 Mobile", "WhatsApp/2.24 A"]
        );
    }

    #[test]
    fn newline_list_with_blanks() {
        let pool = UserAgentPool::parse_list("\n  a/1 (x, y)\r\n\n b/2 \n").unwrap();
        assert_eq!(pool.agents(), ["a/1 (x, y)", "b/2"]);
        assert_eq!([pool.next(), pool.next(), pool.next()], ["a/1 (x, y)", "b/2", "a/1 (x, y)"]);
    }

    #[test]
    fn refuses_empty_and_invalid() {
        assert_eq!(UserAgentPool::parse_list(" , \n ").unwrap_err(), UserAgentError::Empty);
        assert_eq!(UserAgentPool::new(["ok/1", "bad\u{7f}"]).unwrap_err(), UserAgentError::InvalidAgent { index: 1 });
        assert_eq!(UserAgentPool::new(["ünïcode/1"]).unwrap_err(), UserAgentError::InvalidAgent { index: 0 });
        assert!(UserAgentPool::new(["x".repeat(MAX_AGENT_LEN + 1)]).is_err());
    }

    #[test]
    fn rotation_is_fair_across_threads() {
        let pool = std::sync::Arc::new(UserAgentPool::new(["a", "b", "c", "d"]).unwrap());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || (0..1000).map(|_| pool.next().to_owned()).collect::<Vec<_>>())
            })
            .collect();
        let mut counts = std::collections::HashMap::new();
        for h in handles {
            for a in h.join().unwrap() {
                *counts.entry(a).or_insert(0) += 1;
            }
        }
        assert_eq!(counts.values().copied().collect::<Vec<_>>(), vec![1000; 4]);
    }

    proptest! {
        #[test]
        fn parse_list_never_panics_and_agents_are_header_safe(list in "\\PC{0,200}") {
            if let Ok(pool) = UserAgentPool::parse_list(&list) {
                prop_assert!(pool.agents().iter().all(|a| !a.is_empty() && a.bytes().all(|b| (0x20..0x7f).contains(&b))));
                prop_assert!(!pool.next().is_empty());
            }
        }
    }
}
