//! Which credentials a request presents, and the ingest token check.
//!
//! Two schemes authenticate an ingest request: the seed's `X-Ingest-Token`
//! (plus `X-Signature` when HMAC is on), or a Standard Webhooks signature
//! (`webhook-*` headers), which stands on its own. [`Scheme::of`] picks one
//! before the body is read; with neither, the token check answers 401.
//!
//! Tokens are compared as SHA-256 digests in constant time, so neither the
//! content nor the length of a configured token leaks through timing. Any
//! token in the configured list is accepted (rotation).
//! Each token also has a rate key, for the per-token ceiling: a short hash
//! of the token under its own label, so neither logs nor Redis hold the token.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::{RequestHeaders, standard_webhooks::WebhookHeaders};

/// The scheme a request is checked under.
#[derive(Debug, Clone, Copy)]
pub enum Scheme<'a> {
    /// `X-Ingest-Token`, then the seed's signature over the body.
    Token,
    /// Standard Webhooks: the signature alone authenticates.
    StandardWebhooks(WebhookHeaders<'a>),
}

impl<'a> Scheme<'a> {
    /// Standard Webhooks when the scheme is configured and any `webhook-*`
    /// header is present (a missing one then fails verification, 403);
    /// otherwise the token scheme.
    pub fn of(headers: &'a dyn RequestHeaders, webhooks_enabled: bool) -> Self {
        let webhook = WebhookHeaders::read(headers);
        match webhooks_enabled && webhook.any_present() {
            true => Scheme::StandardWebhooks(webhook),
            false => Scheme::Token,
        }
    }
}

pub struct TokenVerifier {
    digests: Vec<[u8; 32]>,
    rate_keys: Vec<String>,
}

/// Which configured token a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenId(usize);

impl TokenVerifier {
    pub fn new(tokens: &[SecretString]) -> Self {
        let digests = tokens.iter().map(|token| digest(token.expose_secret().as_bytes())).collect();
        let rate_keys = tokens.iter().map(|token| rate_key(token.expose_secret().as_bytes())).collect();
        Self { digests, rate_keys }
    }

    pub fn accepts(&self, presented: Option<&[u8]>) -> bool {
        self.identify(presented).is_some()
    }

    /// The configured token presented, if any.
    pub fn identify(&self, presented: Option<&[u8]>) -> Option<TokenId> {
        let presented = presented.filter(|p| !p.is_empty())?;
        let candidate = digest(presented);
        // Fold over every configured token instead of returning early, and
        // select by mask, so the position of the match does not show in the timing.
        let found = self.digests.iter().enumerate().fold(usize::MAX, |found, (index, expected)| {
            let mask = usize::from(constant_time_eq(expected, &candidate)).wrapping_neg();
            (index & mask) | (found & !mask)
        });
        (found != usize::MAX).then_some(TokenId(found))
    }

    /// The key the per-token ceiling counts under.
    pub fn rate_key(&self, token: TokenId) -> &str {
        self.rate_keys.get(token.0).map_or("unknown", String::as_str)
    }
}

fn rate_key(token: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"soko-ingest-token-rate-key\x1f");
    hasher.update(token);
    hex::encode(&hasher.finalize()[..8])
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn verifier(tokens: &[&str]) -> TokenVerifier {
        let secrets: Vec<SecretString> = tokens.iter().map(|t| SecretString::from((*t).to_owned())).collect();
        TokenVerifier::new(&secrets)
    }

    #[test]
    fn accepts_any_listed_token_during_rotation() {
        let verifier = verifier(&["old-token", "new-token"]);
        assert!(verifier.accepts(Some(b"old-token")));
        assert!(verifier.accepts(Some(b"new-token")));
        assert!(!verifier.accepts(Some(b"other")));
        assert!(!verifier.accepts(Some(b"old-token ")));
        assert!(!verifier.accepts(Some(b"")));
        assert!(!verifier.accepts(None));
    }

    #[test]
    fn tokens_are_identified_by_a_key_that_is_not_the_token() {
        let verifier = verifier(&["old-token", "new-token"]);
        let old = verifier.identify(Some(b"old-token")).expect("listed");
        let new = verifier.identify(Some(b"new-token")).expect("listed");
        assert_ne!(verifier.rate_key(old), verifier.rate_key(new));
        assert_eq!(verifier.rate_key(old).len(), 16);
        assert!(!verifier.rate_key(old).contains("old"));
        assert_eq!(verifier.identify(Some(b"other")), None);
        assert_eq!(verifier.rate_key(old), self::verifier(&["x", "old-token"]).rate_key(TokenId(1)), "stable across gateways");
    }

    proptest! {
        #[test]
        fn only_the_exact_token_is_accepted(token in "[ -~]{1,40}", other in "[ -~]{1,40}") {
            let verifier = verifier(&[&token]);
            prop_assert!(verifier.accepts(Some(token.as_bytes())));
            prop_assert_eq!(verifier.accepts(Some(other.as_bytes())), other == token);
        }
    }
}
