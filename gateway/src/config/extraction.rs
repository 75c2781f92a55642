//! Extraction's settings: the default currency and region, and the fan-out
//! caps (`WHATSAPP_MAX_LINKS_PER_MESSAGE`,
//! `WHATSAPP_MAX_PRODUCT_JOBS_PER_CHAT_PER_HOUR`), positive whole numbers.

use super::env::Env;
use crate::extraction::{ExtractionSettings, FanOutCaps};

pub(super) fn extraction_settings(env: &mut Env<'_>, region: phonenumber::country::Id, failures_log_max_rows: u32) -> ExtractionSettings {
    let mut settings = ExtractionSettings::new(env.currency("WHATSAPP_DEFAULT_CURRENCY"), region);
    let defaults = FanOutCaps::default();
    settings.fan_out = FanOutCaps {
        max_links_per_message: env.number("WHATSAPP_MAX_LINKS_PER_MESSAGE", defaults.max_links_per_message, 1, 10_000),
        max_jobs_per_chat_per_hour: env.number(
            "WHATSAPP_MAX_PRODUCT_JOBS_PER_CHAT_PER_HOUR",
            defaults.max_jobs_per_chat_per_hour,
            1,
            10_000_000,
        ),
        failures_log_max_rows,
    };
    settings
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::{Config, ConfigError};

    fn config_of(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Config::from_lookup(|key| vars.get(key).cloned())
    }

    #[test]
    fn fan_out_caps_default_and_must_be_positive_integers() {
        let defaults = config_of(&[("WHATSAPP_INGEST_TOKEN", "t")]).expect("valid").extraction.fan_out;
        assert_eq!((defaults.max_links_per_message, defaults.max_jobs_per_chat_per_hour), (20, 500));
        let set = config_of(&[
            ("WHATSAPP_INGEST_TOKEN", "t"),
            ("WHATSAPP_MAX_LINKS_PER_MESSAGE", "5"),
            ("WHATSAPP_MAX_PRODUCT_JOBS_PER_CHAT_PER_HOUR", " 40 "),
            ("WHATSAPP_FAILURES_LOG_MAX_ROWS", "200"),
        ])
        .expect("valid")
        .extraction
        .fan_out;
        assert_eq!((set.max_links_per_message, set.max_jobs_per_chat_per_hour, set.failures_log_max_rows), (5, 40, 200));
        for bad in ["0", "-3", "2.5", "twenty", "10001"] {
            let error = config_of(&[("WHATSAPP_INGEST_TOKEN", "t"), ("WHATSAPP_MAX_LINKS_PER_MESSAGE", bad)]).expect_err(bad);
            assert_eq!(
                error.problems,
                [format!("WHATSAPP_MAX_LINKS_PER_MESSAGE={bad:?} must be a number from 1 to 10000 (default 20)")]
            );
        }
        let error = config_of(&[("WHATSAPP_INGEST_TOKEN", "t"), ("WHATSAPP_MAX_PRODUCT_JOBS_PER_CHAT_PER_HOUR", "0")]).expect_err("zero");
        assert!(error.to_string().contains("WHATSAPP_MAX_PRODUCT_JOBS_PER_CHAT_PER_HOUR=\"0\" must be a number from 1 to 10000000"), "{error}");
    }
}
