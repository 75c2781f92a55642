//! The ingest path's settings. `config` reads them from the environment
//! (`WHATSAPP_INGEST_*`, `WHATSAPP_CONTENT_HASH_WINDOW_HOURS`, …) and
//! validates them; ingest only consumes them. [`WebhookSecret::parse`] is
//! the one rule for a Standard Webhooks secret, so `config` reports a bad
//! one at start with the reason.

use std::time::Duration;

use ipnet::IpNet;
use base64::{
    Engine,
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};

/// Secrets decode with or without `=` padding, as the standard's libraries accept both.
const SECRET_BASE64: GeneralPurpose =
    GeneralPurpose::new(&alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent));
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// Every listed token is accepted, so a rotation needs no downtime.
    pub tokens: Vec<SecretString>,
    /// Empty means HMAC is off and only the token is checked.
    pub hmac_secrets: Vec<SecretString>,
    /// Standard Webhooks signing keys (`WHATSAPP_INGEST_WEBHOOK_SECRETS`),
    /// any of which verifies (rotation). Empty means the scheme is off.
    pub webhook_secrets: Vec<WebhookSecret>,
    pub signature_ttl: Duration,
    pub rate_limit_per_minute: u32,
    /// Ceiling over every client id one ingest token uses.
    pub rate_limit_per_token_per_minute: u32,
    pub rate_limit_burst: u32,
    pub rate_limit_max_clients: usize,
    pub max_body_bytes: usize,
    pub max_messages: usize,
    /// How long the Redis dedupe markers vouch for a content hash.
    pub content_hash_window: Duration,
    pub allowed_ips: Vec<IpNet>,
    pub trusted_proxies: Vec<IpNet>,
    /// Region for national-format sender numbers.
    pub default_region: phonenumber::country::Id,
    pub failures_log_max_rows: u32,
}

/// A Standard Webhooks signing key: the bytes of `whsec_<base64>`.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// `whsec_` followed by standard base64 (the prefix is optional, as in
    /// the standard's own libraries). The error never quotes the secret.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let encoded = raw.strip_prefix("whsec_").unwrap_or(raw);
        let key = SECRET_BASE64
            .decode(encoded)
            .map_err(|_| "is not whsec_ followed by standard base64 (A-Z a-z 0-9 + /, = padding)".to_owned())?;
        if key.is_empty() {
            return Err("decodes to an empty key".to_owned());
        }
        Ok(Self(key))
    }

    pub fn key(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::WebhookSecret;

    #[test]
    fn secrets_decode_with_or_without_the_prefix() {
        let with = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").map(|s| s.key().to_vec());
        let without = WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").map(|s| s.key().to_vec());
        assert_eq!(with, without);
        assert_eq!(with.map(|k| k.len()), Ok(24));
        // Padding is optional: "c2Vjb25k" + "ZA" is "secondd" unpadded.
        assert_eq!(WebhookSecret::parse("whsec_c2Vjb25kZA").map(|s| s.key().to_vec()), Ok(b"secondd".to_vec()));
        assert_eq!(WebhookSecret::parse("whsec_c2Vjb25kZA==").map(|s| s.key().to_vec()), Ok(b"secondd".to_vec()));
    }

    #[test]
    fn bad_secrets_are_refused_without_being_quoted() {
        for bad in ["whsec_not base64!", "whsec_", "whsec_abcde"] {
            let error = WebhookSecret::parse(bad).err().unwrap_or_default();
            assert!(!error.is_empty(), "{bad} was accepted");
            assert!(!error.contains("abcde") && !error.contains("not base64!"), "{error}");
        }
        assert_eq!(format!("{:?}", WebhookSecret::parse("whsec_c2VjcmV0")), "Ok(WebhookSecret([redacted]))");
    }
}
