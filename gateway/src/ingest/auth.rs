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
}

impl TokenVerifier {
    pub fn new(tokens: &[SecretString]) -> Self {
        let digests = tokens.iter().map(|token| digest(token.expose_secret().as_bytes())).collect();
        Self { digests }
    }

    pub fn accepts(&self, presented: Option<&[u8]>) -> bool {
        let Some(presented) = presented.filter(|p| !p.is_empty()) else { return false };
        let candidate = digest(presented);
        // Fold over every configured token instead of returning early, so the
        // position of the matching token does not show in the timing either.
        self.digests.iter().fold(false, |matched, expected| matched | constant_time_eq(expected, &candidate))
    }
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

    proptest! {
        #[test]
        fn only_the_exact_token_is_accepted(token in "[ -~]{1,40}", other in "[ -~]{1,40}") {
            let verifier = verifier(&[&token]);
            prop_assert!(verifier.accepts(Some(token.as_bytes())));
            prop_assert_eq!(verifier.accepts(Some(other.as_bytes())), other == token);
        }
    }
}
