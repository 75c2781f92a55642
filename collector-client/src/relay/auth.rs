//! Who may post webhooks to the relay (issue #13). Each bridge endpoint runs
//! only with its secret: `/waha` with `WAHA_WEBHOOK_HMAC_KEY`, `/evolution`
//! with `EVOLUTION_WEBHOOK_JWT_KEY` (Evolution's own signed JWT, issue #19)
//! and/or `EVOLUTION_WEBHOOK_APIKEY` (every one set is checked). An endpoint without its secret is off
//! (404 `relay_disabled`), and a relay with no endpoint on refuses to start,
//! naming both settings and `--insecure-no-auth`.
//!
//! `--insecure-no-auth` (`RELAY_INSECURE_NO_AUTH`) opens the endpoints that
//! lack a secret to anyone who can reach `RELAY_LISTEN`. That is logged as a
//! warning at start and again every hour for as long as the relay runs, so
//! it cannot be forgotten in a log that has scrolled away.

use super::RelayConfig;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use tokio::time::MissedTickBehavior;
use tokio_util::task::AbortOnDropHandle;

/// How often the `--insecure-no-auth` warning is repeated.
pub const INSECURE_WARNING_EVERY: Duration = Duration::from_secs(3600);

/// How one bridge endpoint treats an incoming webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointAuth {
    /// Its secret is set: every webhook is checked.
    Verified,
    /// No secret, but `--insecure-no-auth`: anyone may post.
    Open,
    /// No secret: the endpoint answers 404 `relay_disabled`.
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayAuth {
    pub waha: EndpointAuth,
    pub evolution: EndpointAuth,
}

/// What the operator reads when the relay refuses to start.
pub const NO_AUTH_MESSAGE: &str = "the relay refuses to start without webhook authentication: set WAHA_WEBHOOK_HMAC_KEY (--waha-hmac-key) for WAHA and/or EVOLUTION_WEBHOOK_JWT_KEY (--evolution-jwt-key, Evolution's webhook headers.jwt_key) or EVOLUTION_WEBHOOK_APIKEY (--evolution-apikey) for Evolution API; an endpoint without its secret stays off. To accept unauthenticated webhooks anyway, pass --insecure-no-auth (RELAY_INSECURE_NO_AUTH=true)";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{NO_AUTH_MESSAGE}")]
pub struct NoWebhookAuth;

impl RelayAuth {
    /// Decides each endpoint from the configured secrets; `Err` when none
    /// would run.
    pub fn decide(config: &RelayConfig) -> Result<Self, NoWebhookAuth> {
        let endpoint = |has_secret: bool| match (has_secret, config.insecure_no_auth) {
            (true, _) => EndpointAuth::Verified,
            (false, true) => EndpointAuth::Open,
            (false, false) => EndpointAuth::Off,
        };
        let auth = Self { waha: endpoint(is_set(config.waha_hmac_key.as_ref())), evolution: endpoint(is_set(config.evolution_apikey.as_ref()) || is_set(config.evolution_jwt_key.as_ref())) };
        if auth.waha == EndpointAuth::Off && auth.evolution == EndpointAuth::Off {
            return Err(NoWebhookAuth);
        }
        Ok(auth)
    }

    /// The paths anyone may post to.
    pub fn open_endpoints(&self) -> Vec<&'static str> {
        let mut open = Vec::new();
        if self.waha == EndpointAuth::Open {
            open.push("/waha");
        }
        if self.evolution == EndpointAuth::Open {
            open.push("/evolution");
        }
        open
    }

    /// One start-up line per endpoint.
    pub fn log_endpoints(&self) {
        for (path, auth, secret) in [("/waha", self.waha, "WAHA_WEBHOOK_HMAC_KEY"), ("/evolution", self.evolution, "EVOLUTION_WEBHOOK_JWT_KEY / EVOLUTION_WEBHOOK_APIKEY")] {
            match auth {
                EndpointAuth::Verified => tracing::info!(endpoint = path, "relay endpoint on, authenticated by {secret}"),
                EndpointAuth::Open => {}
                EndpointAuth::Off => tracing::warn!(endpoint = path, "relay endpoint off: {secret} is not set; its webhooks get 404 relay_disabled"),
            }
        }
    }

    /// Warns now and every `every` while the task lives, when any endpoint
    /// is open. Dropping the handle stops it.
    pub fn spawn_insecure_warnings(&self, every: Duration) -> Option<AbortOnDropHandle<()>> {
        let open = self.open_endpoints();
        if open.is_empty() {
            return None;
        }
        Some(AbortOnDropHandle::new(tokio::spawn(warn_every(open.join(", "), every))))
    }
}

/// An empty secret (`WAHA_WEBHOOK_HMAC_KEY=`) counts as unset.
pub fn is_set(secret: Option<&SecretString>) -> bool {
    secret.is_some_and(|secret| !secret.expose_secret().is_empty())
}

async fn warn_every(endpoints: String, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        // The first tick is immediate: the warning comes at start too.
        ticks.tick().await;
        tracing::warn!(
            endpoints = %endpoints,
            "--insecure-no-auth: these relay endpoints accept webhooks without authentication; anyone who can reach RELAY_LISTEN can inject messages. Set WAHA_WEBHOOK_HMAC_KEY / EVOLUTION_WEBHOOK_JWT_KEY instead"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn config(waha: bool, evolution: bool, insecure: bool) -> RelayConfig {
        let secret = |on: bool| on.then(|| SecretString::from("s".to_owned()));
        RelayConfig { waha_hmac_key: secret(waha), evolution_apikey: secret(evolution), insecure_no_auth: insecure, ..RelayConfig::default() }
    }

    #[test]
    fn each_endpoint_needs_its_secret_and_none_at_all_refuses_to_start() {
        use EndpointAuth::{Off, Open, Verified};
        let decide = |waha, evolution, insecure| RelayAuth::decide(&config(waha, evolution, insecure)).map(|auth| (auth.waha, auth.evolution));
        assert_eq!(decide(false, false, false), Err(NoWebhookAuth));
        assert_eq!(decide(true, false, false), Ok((Verified, Off)));
        assert_eq!(decide(false, true, false), Ok((Off, Verified)));
        assert_eq!(decide(true, true, false), Ok((Verified, Verified)));
        assert_eq!(decide(false, false, true), Ok((Open, Open)));
        assert_eq!(decide(true, false, true), Ok((Verified, Open)));
        let message = NoWebhookAuth.to_string();
        for name in ["WAHA_WEBHOOK_HMAC_KEY", "EVOLUTION_WEBHOOK_APIKEY", "--insecure-no-auth"] {
            assert!(message.contains(name), "{message}");
        }
        let empty = RelayConfig { waha_hmac_key: Some(SecretString::from(String::new())), ..RelayConfig::default() };
        assert_eq!(RelayAuth::decide(&empty), Err(NoWebhookAuth), "an empty secret is no secret");
        let both = RelayAuth::decide(&config(true, true, true)).unwrap_or_else(|e| panic!("{e}"));
        assert!(both.spawn_insecure_warnings(INSECURE_WARNING_EVERY).is_none(), "nothing is open, nothing to warn about");
    }

    /// A log sink the test can read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn warnings(&self) -> usize {
            let text = String::from_utf8_lossy(&self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned();
            text.lines().filter(|line| line.contains("WARN") && line.contains("--insecure-no-auth") && line.contains("/evolution")).count()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn insecure_mode_warns_at_start_and_every_hour_until_stopped() {
        let sink = Captured::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let auth = RelayAuth::decide(&config(true, false, true)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(auth.open_endpoints(), ["/evolution"]);

        let warnings = auth.spawn_insecure_warnings(INSECURE_WARNING_EVERY).unwrap_or_else(|| panic!("an open endpoint is warned about"));
        tokio::task::yield_now().await;
        assert_eq!(sink.warnings(), 1, "at start");
        tokio::time::sleep(INSECURE_WARNING_EVERY - Duration::from_secs(1)).await;
        assert_eq!(sink.warnings(), 1, "not before the hour");
        tokio::time::sleep(Duration::from_secs(1)).await;
        tokio::task::yield_now().await;
        assert_eq!(sink.warnings(), 2, "after one hour");
        tokio::time::sleep(INSECURE_WARNING_EVERY * 3).await;
        tokio::task::yield_now().await;
        assert_eq!(sink.warnings(), 5, "once per hour");
        drop(warnings);
        tokio::time::sleep(INSECURE_WARNING_EVERY * 2).await;
        assert_eq!(sink.warnings(), 5, "a stopped relay stops warning");
    }
}
