//! The WhatsApp Cloud API receiver's variables: `META_APP_SECRET` (the Meta
//! app's secret, a comma-separated list during rotation) and
//! `META_VERIFY_TOKEN` (what the app dashboard's webhook form sends). Both or
//! neither: a secret without a token could never complete Meta's handshake,
//! and a token without a secret would leave the routes off by surprise.

use super::env::Env;
use crate::ingest::meta::MetaSettings;

/// Meta's app secrets are 32 hex characters; anything much shorter is a paste error.
const MIN_SECRET_CHARS: usize = 16;

pub(super) fn meta_settings(env: &mut Env<'_>) -> MetaSettings {
    let app_secrets = env.secret_list("META_APP_SECRET");
    let verify_token = env.get("META_VERIFY_TOKEN");
    let malformed = app_secrets.iter().any(|secret| {
        let secret = secrecy::ExposeSecret::expose_secret(secret);
        secret.chars().count() < MIN_SECRET_CHARS || secret.chars().any(char::is_whitespace)
    });
    if malformed {
        env.problem(format!(
            "META_APP_SECRET: every secret must be at least {MIN_SECRET_CHARS} characters without spaces \
             (the app secret under App settings > Basic in the Meta app dashboard is 32 hex characters)"
        ));
    }
    match (app_secrets.is_empty(), &verify_token) {
        (false, None) => env.problem(
            "META_VERIFY_TOKEN is required with META_APP_SECRET: the token you type into the webhook form \
             of the Meta app dashboard, which Meta sends back as hub.verify_token",
        ),
        (true, Some(_)) => env.problem(
            "META_VERIFY_TOKEN is set but META_APP_SECRET is not: without the app secret the Meta webhook \
             routes stay off (404); set both, or neither",
        ),
        _ => {}
    }
    MetaSettings { app_secrets, verify_token: verify_token.map(secrecy::SecretString::from) }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use crate::config::{Config, ConfigError};

    const SECRET: &str = "6f1e2d3c4b5a69788796a5b4c3d2e1f0";

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        vars.insert("WHATSAPP_INGEST_TOKEN".into(), "t".into());
        Config::from_lookup(|key| vars.get(key).cloned())
    }

    #[test]
    fn off_by_default() {
        let config = config(&[]).expect("valid");
        assert!(!config.meta.is_enabled());
    }

    #[test]
    fn secrets_rotate_and_the_token_is_kept() {
        let rotated = format!("{SECRET}, {}", SECRET.to_uppercase());
        let config = config(&[("META_APP_SECRET", rotated.as_str()), ("META_VERIFY_TOKEN", "hello-meta")]).expect("valid");
        assert_eq!(config.meta.app_secrets.len(), 2);
        assert_eq!(config.meta.verify_token.as_ref().map(|t| t.expose_secret().to_owned()).as_deref(), Some("hello-meta"));
    }

    #[test]
    fn both_or_neither_and_no_short_secrets() {
        let alone = config(&[("META_APP_SECRET", SECRET)]).expect_err("token missing");
        assert!(alone.to_string().contains("META_VERIFY_TOKEN is required"), "{alone}");
        let token_only = config(&[("META_VERIFY_TOKEN", "x")]).expect_err("secret missing");
        assert!(token_only.to_string().contains("META_APP_SECRET is not"), "{token_only}");
        let short = config(&[("META_APP_SECRET", "abc"), ("META_VERIFY_TOKEN", "x")]).expect_err("short");
        assert!(short.to_string().contains("at least 16 characters"), "{short}");
        assert_eq!(short.problems.len(), 1);
    }
}
