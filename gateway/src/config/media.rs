//! The product chain's media settings from the environment: `EMBED_*`,
//! `ORT_DYLIB_PATH`, `MEDIA_*`, `QC_*`, `GEMINI_*`, `IMAGE_STORE`, `IMAGE_DIR`
//! and `S3_*` (the table is in `docs/CONFIGURATION.md`).

use std::{path::PathBuf, str::FromStr, time::Duration};

use secrecy::SecretString;
use url::Url;

use super::env::Env;
use crate::pipeline::{
    media::{DEFAULT_GEMINI_MODEL, DEFAULT_IMAGE_DIR, EmbedSettings, ImageStoreSettings, LlmEndpoint, MediaSettings, QcSettings, S3Settings},
    qc::{QcProviderKind, llm::DEFAULT_GEMINI_BASE_URL},
};

/// Reads the embed, QC and image-store settings.
pub(super) fn media_settings(env: &mut Env<'_>) -> MediaSettings {
    let max_image_bytes = env.number("MEDIA_MAX_IMAGE_BYTES", 10 * 1_048_576usize, 1_024, 256 * 1_048_576);
    let fetch_timeout = Duration::from_secs_f64(env.number("MEDIA_FETCH_TIMEOUT_SECONDS", 10.0f64, 0.1, 300.0));
    let cache_bytes = env.number("MEDIA_CACHE_MB", 32u64, 0, 65_536) * 1_048_576;
    let cache_ttl = Duration::from_secs(env.number("MEDIA_CACHE_TTL_SECONDS", 600u64, 1, 86_400));
    let embed = embed_settings(env);
    let qc = qc_settings(env);
    let image_store = image_store_settings(env);
    MediaSettings { max_image_bytes, fetch_timeout, cache_bytes, cache_ttl, embed, qc, image_store }
}

fn embed_settings(env: &mut Env<'_>) -> EmbedSettings {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let model_dir = env.get("EMBED_MODEL_DIR").map(PathBuf::from);
    if let Some(dir) = model_dir.as_ref().filter(|d| !d.is_dir()) {
        env.problem(format!("EMBED_MODEL_DIR={} is not a directory", dir.display()));
    }
    let model_id = env.get("EMBED_MODEL_ID").unwrap_or_else(|| {
        model_dir
            .as_ref()
            .and_then(|d| d.file_name())
            .map_or_else(|| "none".to_owned(), |n| n.to_string_lossy().into_owned())
    });
    let ort_dylib_path = env.get("ORT_DYLIB_PATH").map(PathBuf::from);
    if model_dir.is_some() {
        match &ort_dylib_path {
            None => env.problem(
                "ORT_DYLIB_PATH is required with EMBED_MODEL_DIR: the path of libonnxruntime.so (scripts/fetch_onnxruntime.sh fetches it and prints the path)".to_owned(),
            ),
            Some(path) if !path.is_file() => env.problem(format!("ORT_DYLIB_PATH={} is not a file", path.display())),
            Some(_) => {}
        }
    }
    let image_weight = env.number("EMBED_IMAGE_WEIGHT", 0.6f32, 0.0, 1_000.0);
    let text_weight = env.number("EMBED_TEXT_WEIGHT", 0.4f32, 0.0, 1_000.0);
    if text_weight == 0.0 {
        env.problem("EMBED_TEXT_WEIGHT must be above 0: text-only products would have no hybrid".to_owned());
    }
    EmbedSettings {
        model_dir,
        model_id,
        ort_dylib_path,
        image_weight,
        text_weight,
        sessions: env.number("EMBED_SESSIONS", 1usize, 1, 64),
        intra_threads: env.number("EMBED_THREADS", cores, 1, 256),
        max_batch: env.number("EMBED_MAX_BATCH", 16usize, 1, 1_024),
    }
}

fn qc_settings(env: &mut Env<'_>) -> QcSettings {
    let provider = match QcProviderKind::from_str(&env.get("QC_PROVIDER").unwrap_or_default()) {
        Ok(kind) => kind,
        Err(e) => {
            env.problem(e.to_string());
            QcProviderKind::Rules
        }
    };
    let mut settings = QcSettings {
        provider,
        gemini: None,
        openai: None,
        extra_banned_words: env.get("QC_BANNED_WORDS"),
        cache_ttl: Duration::from_secs_f64(env.number("QC_CACHE_HOURS", 24.0f64, 0.0, 8_760.0) * 3_600.0),
    };
    match provider {
        QcProviderKind::Rules => {}
        QcProviderKind::Gemini => {
            let key = env.require("GEMINI_API_KEY", "when QC_PROVIDER=gemini");
            let base_url = env.url("GEMINI_BASE_URL").or_else(|| Url::parse(DEFAULT_GEMINI_BASE_URL).ok());
            let model = env.get("GEMINI_MODEL").unwrap_or_else(|| DEFAULT_GEMINI_MODEL.to_owned());
            if let (Some(key), Some(base_url)) = (key, base_url) {
                settings.gemini = Some(LlmEndpoint { base_url, model, api_key: Some(SecretString::from(key)) });
            }
        }
        QcProviderKind::OpenAi => {
            let base_url = env.url("QC_BASE_URL");
            if env.get("QC_BASE_URL").is_none() {
                env.problem("QC_BASE_URL is required when QC_PROVIDER=openai (e.g. https://api.openai.com/v1)".to_owned());
            }
            let model = env.require("QC_MODEL", "when QC_PROVIDER=openai");
            let api_key = env.get("QC_API_KEY").map(SecretString::from);
            if let (Some(base_url), Some(model)) = (base_url, model) {
                settings.openai = Some(LlmEndpoint { base_url, model, api_key });
            }
        }
    }
    settings
}

/// The bucket and client settings (`S3_*`) shared by the image store and the document store.
pub(super) fn s3_settings(env: &mut Env<'_>, why: &str) -> S3Settings {
    let bucket = env.require("S3_BUCKET", why).unwrap_or_default();
    let access_key_id = env.get("S3_ACCESS_KEY_ID");
    let secret_access_key = env.get("S3_SECRET_ACCESS_KEY").map(SecretString::from);
    if access_key_id.is_some() != secret_access_key.is_some() {
        env.problem("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together".to_owned());
    }
    S3Settings {
        bucket,
        endpoint: env.url("S3_ENDPOINT"),
        region: env.get("S3_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
        public_base_url: env.url("S3_PUBLIC_BASE_URL"),
        access_key_id,
        secret_access_key,
    }
}

fn image_store_settings(env: &mut Env<'_>) -> ImageStoreSettings {
    let local = || ImageStoreSettings::Local { dir: PathBuf::from(DEFAULT_IMAGE_DIR) };
    match env.get("IMAGE_STORE").map(|s| s.to_ascii_lowercase()).as_deref() {
        None | Some("local") => ImageStoreSettings::Local { dir: env.get("IMAGE_DIR").map_or_else(|| PathBuf::from(DEFAULT_IMAGE_DIR), PathBuf::from) },
        Some("s3") => ImageStoreSettings::S3(Box::new(s3_settings(env, "when IMAGE_STORE=s3"))),
        Some(other) => {
            env.problem(format!("IMAGE_STORE={other:?} must be local or s3"));
            local()
        }
    }
}


#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> (MediaSettings, Vec<String>) {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        let lookup = |key: &str| vars.get(key).cloned();
        let mut env = Env::new(&lookup);
        let settings = media_settings(&mut env);
        (settings, env.problems)
    }

    #[test]
    fn defaults_need_nothing() {
        let (config, problems) = read(&[]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config.embed.model_dir, None);
        assert_eq!((config.embed.image_weight, config.embed.text_weight), (0.6, 0.4));
        assert_eq!(config.qc.provider, QcProviderKind::Rules);
        assert_eq!(config.qc.cache_ttl, Duration::from_secs(24 * 3_600));
        assert!(matches!(config.image_store, ImageStoreSettings::Local { ref dir } if dir == &PathBuf::from("./data/images")));
        assert_eq!(config.max_image_bytes, 10 * 1_048_576);
    }

    #[test]
    fn providers_and_stores_demand_their_settings() {
        let (_, problems) = read(&[("QC_PROVIDER", "gemini")]);
        assert_eq!(problems, ["GEMINI_API_KEY is required when QC_PROVIDER=gemini"]);
        let (_, problems) = read(&[("QC_PROVIDER", "openai"), ("IMAGE_STORE", "s3"), ("S3_ENDPOINT", "ftp://x")]);
        let text = problems.join("\n");
        for needle in ["QC_BASE_URL is required", "QC_MODEL is required", "S3_BUCKET is required", "S3_ENDPOINT must be an http(s) URL"] {
            assert!(text.contains(needle), "{needle:?} missing from {text}");
        }
        let (_, problems) = read(&[("QC_PROVIDER", "claude"), ("IMAGE_STORE", "ftp"), ("EMBED_TEXT_WEIGHT", "0"), ("EMBED_MODEL_DIR", "/nonexistent/dir")]);
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn complete_settings_are_kept() {
        let (config, problems) = read(&[
            ("QC_PROVIDER", "openai"),
            ("QC_BASE_URL", "http://127.0.0.1:9/v1"),
            ("QC_MODEL", "gpt-4o-mini"),
            ("IMAGE_STORE", "S3"),
            ("S3_BUCKET", "soko"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_ACCESS_KEY_ID", "k"),
            ("S3_SECRET_ACCESS_KEY", "s"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        let openai = config.qc.openai.expect("openai endpoint");
        assert_eq!((openai.base_url.as_str(), openai.model.as_str(), openai.api_key.is_none()), ("http://127.0.0.1:9/v1", "gpt-4o-mini", true));
        let ImageStoreSettings::S3(s3) = config.image_store else { panic!("s3 store expected") };
        assert_eq!((s3.bucket.as_str(), s3.region.as_str()), ("soko", "us-east-1"));
    }
}
