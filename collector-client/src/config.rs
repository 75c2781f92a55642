//! Command line and environment: every setting is a flag with an env
//! fallback (`WHATSAPP_INGEST_URL`, `WHATSAPP_INGEST_TOKEN`,
//! `WHATSAPP_INGEST_HMAC_SECRET`, `WHATSAPP_INGEST_SIGNING`,
//! `WHATSAPP_INGEST_WEBHOOK_SECRET`, `CLIENT_ID`, `BATCH_MAX_MESSAGES`,
//! `BATCH_FLUSH_INTERVAL_MS`, `PORT`, `SPOOL_DIR`, …), checked before
//! anything starts. Secrets are `SecretString`: never printed, and `--help`
//! hides their env values.

use crate::export::{DateOrder, parse_utc_offset};
use crate::sender::SenderConfig;
use crate::signing::{INGEST_PATH, Signing, WebhookKey};
use chrono::FixedOffset;
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

#[derive(Debug, Parser)]
#[command(name = "collector", version, about = "Sends WhatsApp messages (exports, stdin, bridge webhooks) to the Soko ingest gateway as signed batches", after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// `--help`'s account of the exit codes (kept beside `cli`'s constants).
pub const EXIT_CODES_HELP: &str = "\
Exit codes of `stdin` and `export` (the first that applies wins); each run ends with a
`summary:` line on stderr: N created, N duplicate, N waiting (in SPOOL_DIR), N rejected (in SPOOL_DIR/rejected):
  77  the gateway refused the credentials (401/403): every undelivered batch waits in SPOOL_DIR
      and is sent first by the next run, once the token, secret or clock is fixed
  75  the gateway did not take everything (down, overloaded, wrong URL): the rest waits in SPOOL_DIR
  65  input was skipped, or the gateway refused a batch or some messages for good: kept in
      SPOOL_DIR/rejected/ with a .reason.json beside each; the rest was delivered
   1  configuration or fatal error
   0  everything read was delivered
`watch` and `relay` keep running and report through /healthz and /metrics (PORT).";

fn secret(value: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(value.to_owned()))
}

#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Gateway ingest endpoint; a bare origin gets /integrations/whatsapp/ingest appended.
    #[arg(long, env = "WHATSAPP_INGEST_URL", global = true)]
    pub ingest_url: Option<String>,
    /// X-Ingest-Token sent with every batch.
    #[arg(long, env = "WHATSAPP_INGEST_TOKEN", hide_env_values = true, value_parser = secret, global = true)]
    pub token: Option<SecretString>,
    /// HMAC-SHA256 secret for X-Signature; without it batches carry the token only.
    #[arg(long, env = "WHATSAPP_INGEST_HMAC_SECRET", hide_env_values = true, value_parser = secret, global = true)]
    pub hmac_secret: Option<SecretString>,
    /// How batches are signed: `seed` (X-Ingest-Token and X-Signature) or
    /// `standard-webhooks` (webhook-id, webhook-timestamp, webhook-signature).
    #[arg(long, env = "WHATSAPP_INGEST_SIGNING", value_enum, default_value_t = Signing::Seed, global = true)]
    pub signing: Signing,
    /// The `whsec_…` secret for `--signing standard-webhooks`.
    #[arg(long, env = "WHATSAPP_INGEST_WEBHOOK_SECRET", hide_env_values = true, value_parser = secret, global = true)]
    pub webhook_secret: Option<SecretString>,
    /// client_id of every batch (the gateway rate-limits per client id).
    #[arg(long, env = "CLIENT_ID", default_value = "collector", global = true)]
    pub client_id: String,
    /// A batch closes when it holds this many messages (1-500).
    #[arg(long, env = "BATCH_MAX_MESSAGES", default_value_t = 50, global = true)]
    pub batch_max_messages: usize,
    /// …or this long after its first message (10-600000 ms).
    #[arg(long, env = "BATCH_FLUSH_INTERVAL_MS", default_value_t = 1000, global = true)]
    pub batch_flush_interval_ms: u64,
    /// Status server port (/healthz, /metrics); none when unset.
    #[arg(long, env = "PORT", global = true)]
    pub port: Option<u16>,
    /// Address the status server binds to.
    #[arg(long, env = "STATUS_HOST", default_value = "127.0.0.1", global = true)]
    pub status_host: String,
    /// Where batches wait until the gateway accepted them.
    #[arg(long, env = "SPOOL_DIR", default_value = "./spool", global = true)]
    pub spool_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read JSON lines from stdin, one ingest message per line.
    Stdin,
    /// Send WhatsApp chat exports (.txt or .zip).
    Export(ExportArgs),
    /// Send every new export dropped into a directory, once.
    Watch(WatchArgs),
    /// Receive WAHA and Evolution API webhooks and forward their text and captioned media.
    Relay(RelayArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ExportSettings {
    /// UTC offset of the phone that exported the chat (exports carry local time).
    #[arg(long, env = "EXPORT_UTC_OFFSET", default_value = "+03:00", value_parser = parse_utc_offset)]
    pub utc_offset: FixedOffset,
    /// Force the date order instead of detecting it per file.
    #[arg(long, value_enum)]
    pub date_order: Option<DateOrder>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Chat title for every file, instead of the one in the file name.
    #[arg(long)]
    pub chat: Option<String>,
    /// Print one ingest message JSON per line instead of sending.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub settings: ExportSettings,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    pub dir: PathBuf,
    /// How often the directory is scanned; a file is sent once its size and
    /// modification time held still for one interval.
    #[arg(long, env = "WATCH_POLL_INTERVAL_MS", default_value_t = 2000)]
    pub poll_interval_ms: u64,
    /// Record of files already sent (by content hash); default SPOOL_DIR/watch-state.json.
    #[arg(long, env = "WATCH_STATE_FILE")]
    pub state_file: Option<PathBuf>,
    #[command(flatten)]
    pub settings: ExportSettings,
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Address for webhooks: POST /waha, POST /evolution.
    #[arg(long, env = "RELAY_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: String,
    /// WAHA webhook hmac.key: /waha requires X-Webhook-Hmac (SHA-512) and is off without it.
    #[arg(long, env = "WAHA_WEBHOOK_HMAC_KEY", hide_env_values = true, value_parser = secret)]
    pub waha_hmac_key: Option<SecretString>,
    /// Evolution webhooks must carry this apikey in their body (Evolution sends it only with
    /// AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES=true).
    #[arg(long, env = "EVOLUTION_WEBHOOK_APIKEY", hide_env_values = true, value_parser = secret)]
    pub evolution_apikey: Option<SecretString>,
    /// Evolution's webhook `headers.jwt_key`: every Evolution webhook must carry
    /// `Authorization: Bearer <JWT>` signed HS256 with it, unexpired.
    #[arg(long, env = "EVOLUTION_WEBHOOK_JWT_KEY", hide_env_values = true, value_parser = secret)]
    pub evolution_jwt_key: Option<SecretString>,
    /// Run the endpoints whose secret is unset anyway, open to anyone who can
    /// reach the relay (warned about at start and every hour).
    #[arg(long, env = "RELAY_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// JSON object mapping chat JIDs to titles, e.g. {"1203…@g.us": "Nairobi Phones"}.
    #[arg(long, env = "CHAT_TITLES_FILE")]
    pub chat_titles: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("WHATSAPP_INGEST_URL is not set: pass --ingest-url or set WHATSAPP_INGEST_URL (e.g. http://127.0.0.1:8000{INGEST_PATH})")]
    MissingUrl,
    #[error("WHATSAPP_INGEST_URL {url:?} is not usable: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("WHATSAPP_INGEST_TOKEN is not set: pass --token or set WHATSAPP_INGEST_TOKEN")]
    MissingToken,
    #[error("--signing standard-webhooks needs WHATSAPP_INGEST_WEBHOOK_SECRET (--webhook-secret): the whsec_… secret the gateway lists in WHATSAPP_INGEST_WEBHOOK_SECRETS")]
    MissingWebhookSecret,
    #[error("WHATSAPP_INGEST_WEBHOOK_SECRET: {0}")]
    BadWebhookSecret(String),
    #[error("CLIENT_ID {0:?} must be 1-64 characters of letters, digits, '.', '_', ':' or '-'")]
    BadClientId(String),
    #[error("BATCH_MAX_MESSAGES must be between 1 and 500 (the gateway's default batch limit), got {0}")]
    BadBatchSize(usize),
    #[error("BATCH_FLUSH_INTERVAL_MS must be between 10 and 600000, got {0}")]
    BadFlushInterval(u64),
    #[error("SPOOL_DIR must not be empty")]
    EmptySpoolDir,
}

impl CommonArgs {
    /// Everything a sender needs, validated; `Err` names the setting to fix.
    pub fn sender_config(&self) -> Result<SenderConfig, ConfigError> {
        let raw_url = self.ingest_url.as_deref().map(str::trim).filter(|url| !url.is_empty()).ok_or(ConfigError::MissingUrl)?;
        let ingest_url = ingest_url(raw_url)?;
        let token = self.token.clone().filter(|token| !token.expose_secret().trim().is_empty());
        let webhook_key = match self.signing {
            Signing::Seed => None,
            Signing::StandardWebhooks => {
                let raw = self.webhook_secret.as_ref().map(|s| s.expose_secret().trim()).filter(|s| !s.is_empty());
                Some(WebhookKey::parse(raw.ok_or(ConfigError::MissingWebhookSecret)?).map_err(ConfigError::BadWebhookSecret)?)
            }
        };
        // A Standard Webhooks signature authenticates by itself; the seed's scheme needs the token.
        let token = match (token, &webhook_key) {
            (Some(token), _) => token,
            (None, Some(_)) => SecretString::from(String::new()),
            (None, None) => return Err(ConfigError::MissingToken),
        };
        let client_id_ok = (1..=64).contains(&self.client_id.len()) && self.client_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        if !client_id_ok {
            return Err(ConfigError::BadClientId(self.client_id.clone()));
        }
        if !(1..=500).contains(&self.batch_max_messages) {
            return Err(ConfigError::BadBatchSize(self.batch_max_messages));
        }
        if !(10..=600_000).contains(&self.batch_flush_interval_ms) {
            return Err(ConfigError::BadFlushInterval(self.batch_flush_interval_ms));
        }
        if self.spool_dir.as_os_str().is_empty() {
            return Err(ConfigError::EmptySpoolDir);
        }
        let mut config = SenderConfig::new(ingest_url, token, self.client_id.clone(), self.spool_dir.clone());
        config.hmac_secret = self.hmac_secret.clone().filter(|secret| !secret.expose_secret().is_empty());
        config.webhook_key = webhook_key;
        config.batch_max_messages = self.batch_max_messages;
        config.flush_interval = Duration::from_millis(self.batch_flush_interval_ms);
        Ok(config)
    }
}

/// Parses the ingest URL; a bare origin gets the ingest path appended.
pub fn ingest_url(raw: &str) -> Result<Url, ConfigError> {
    let bad = |reason: &str| ConfigError::BadUrl { url: raw.to_owned(), reason: reason.to_owned() };
    let mut url = Url::parse(raw).map_err(|error| bad(&error.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials belong in WHATSAPP_INGEST_TOKEN, not in the URL"));
    }
    if url.path() == "/" || url.path().is_empty() {
        url.set_path(INGEST_PATH);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Result<Cli, clap::Error> {
        let mut argv = vec!["collector"];
        argv.extend_from_slice(extra);
        argv.push("stdin");
        Cli::try_parse_from(argv)
    }

    fn common(extra: &[&str]) -> CommonArgs {
        args(extra).map(|cli| cli.common).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_valid_configuration_becomes_a_sender_config() {
        let config =
            common(&["--ingest-url", "http://127.0.0.1:8000", "--token", "t", "--hmac-secret", "s", "--client-id", "shop-1", "--batch-max-messages", "10", "--batch-flush-interval-ms", "250"])
                .sender_config()
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.ingest_url.as_str(), "http://127.0.0.1:8000/integrations/whatsapp/ingest");
        assert_eq!(config.batch_max_messages, 10);
        assert_eq!(config.flush_interval, Duration::from_millis(250));
        assert!(config.hmac_secret.is_some());
        // Secrets never show in Debug output.
        assert!(!format!("{config:?}").contains("\"t\""));
        assert!(format!("{config:?}").contains("[redacted]"));
    }

    #[test]
    fn invalid_settings_are_named_in_the_error() {
        let base = ["--ingest-url", "http://gw:8000/integrations/whatsapp/ingest", "--token", "t"];
        let check = |extra: &[&str], expected: ConfigError| {
            let mut all = base.to_vec();
            all.extend_from_slice(extra);
            assert_eq!(common(&all).sender_config().err(), Some(expected));
        };
        check(&["--batch-max-messages", "0"], ConfigError::BadBatchSize(0));
        check(&["--batch-max-messages", "501"], ConfigError::BadBatchSize(501));
        check(&["--batch-flush-interval-ms", "5"], ConfigError::BadFlushInterval(5));
        check(&["--client-id", "has space"], ConfigError::BadClientId("has space".into()));
        assert_eq!(common(&["--token", "t"]).sender_config().err(), Some(ConfigError::MissingUrl));
        assert_eq!(common(&["--ingest-url", "http://gw"]).sender_config().err(), Some(ConfigError::MissingToken));
        let error = common(&["--ingest-url", "ftp://gw", "--token", "t"]).sender_config().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("http or https"), "{error}");
        assert!(ConfigError::MissingUrl.to_string().contains("WHATSAPP_INGEST_URL"));
    }

    #[test]
    fn standard_webhooks_signing_needs_a_whsec_secret_and_no_token() {
        let base = ["--ingest-url", "http://gw:8000", "--signing", "standard-webhooks"];
        let with = |extra: &[&str]| {
            let mut all = base.to_vec();
            all.extend_from_slice(extra);
            common(&all).sender_config()
        };
        let config = with(&["--webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(config.webhook_key.is_some());
        assert!(config.token.expose_secret().is_empty(), "no token is needed");
        assert_eq!(with(&[]).err(), Some(ConfigError::MissingWebhookSecret));
        let bad = with(&["--webhook-secret", "whsec_%%%"]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(bad.contains("WHATSAPP_INGEST_WEBHOOK_SECRET") && !bad.contains("%%%"), "{bad}");
        // The default stays the seed's scheme, which needs the token.
        let seed = common(&["--ingest-url", "http://gw:8000", "--webhook-secret", "whsec_c2Vjb25k"]);
        assert_eq!(seed.signing, Signing::Seed);
        assert_eq!(seed.sender_config().err(), Some(ConfigError::MissingToken));
    }

    #[test]
    fn export_flags_parse_offsets_and_date_orders() {
        let cli = Cli::try_parse_from(["collector", "export", "--dry-run", "--utc-offset", "+01:00", "--date-order", "month-first", "a.txt"]).unwrap_or_else(|e| panic!("{e}"));
        let Command::Export(export) = cli.command else { panic!("export expected") };
        assert!(export.dry_run);
        assert_eq!(export.settings.utc_offset.local_minus_utc(), 3600);
        assert_eq!(export.settings.date_order, Some(DateOrder::MonthFirst));
        let bad = Cli::try_parse_from(["collector", "export", "--utc-offset", "3", "a.txt"]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(bad.contains("+HH:MM"), "{bad}");
    }
}
