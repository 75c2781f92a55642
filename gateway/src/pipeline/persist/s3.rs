//! `IMAGE_STORE=s3`: `aws-sdk-s3` against AWS or any S3-compatible server (MinIO, moto, R2):
//! path-style addressing, request checksums only when an operation requires them (many
//! S3-compatible servers reject the newer default ones), static credentials when
//! `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY` are set, else the AWS default chain. Objects are
//! written without an ACL (R2 and others have none): making them readable at `S3_PUBLIC_BASE_URL`
//! is the bucket policy's or the CDN's job.

use aws_sdk_s3::config::{Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use secrecy::ExposeSecret;

use super::ImageStoreError;
use crate::pipeline::media::settings::S3Settings;

#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// Objects are public at `<public_base>/<key>`.
    public_base: String,
}

impl S3Store {
    pub async fn connect(settings: &S3Settings) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).region(Region::new(settings.region.clone()));
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            loader = loader.credentials_provider(Credentials::new(id, secret.expose_secret(), None, None, "soko-s3-settings"));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint.as_str().trim_end_matches('/'));
        }
        Self { client: aws_sdk_s3::Client::from_conf(config.build()), bucket: settings.bucket.clone(), public_base: public_base(settings) }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<String, ImageStoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| ImageStoreError::S3(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        Ok(format!("{}/{key}", self.public_base))
    }

    /// The object's bytes, or `None` when the bucket has no such key.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, ImageStoreError> {
        let object = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(object) => object,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(error) => return Err(ImageStoreError::S3(aws_sdk_s3::error::DisplayErrorContext(error).to_string())),
        };
        let body = object.body.collect().await.map_err(|e| ImageStoreError::S3(e.to_string()))?;
        Ok(Some(body.into_bytes()))
    }
}

/// `S3_PUBLIC_BASE_URL`, else the path-style URL at the endpoint, else AWS's virtual-host URL.
fn public_base(settings: &S3Settings) -> String {
    if let Some(base) = &settings.public_base_url {
        return base.as_str().trim_end_matches('/').to_owned();
    }
    match &settings.endpoint {
        Some(endpoint) => format!("{}/{}", endpoint.as_str().trim_end_matches('/'), settings.bucket),
        None => format!("https://{}.s3.{}.amazonaws.com", settings.bucket, settings.region),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: Option<&str>, public: Option<&str>) -> S3Settings {
        S3Settings {
            bucket: "soko".into(),
            endpoint: endpoint.and_then(|e| url::Url::parse(e).ok()),
            region: "eu-west-1".into(),
            public_base_url: public.and_then(|e| url::Url::parse(e).ok()),
            access_key_id: None,
            secret_access_key: None,
        }
    }

    #[test]
    fn public_urls() {
        assert_eq!(public_base(&settings(None, None)), "https://soko.s3.eu-west-1.amazonaws.com");
        assert_eq!(public_base(&settings(Some("http://127.0.0.1:9000/"), None)), "http://127.0.0.1:9000/soko");
        assert_eq!(public_base(&settings(Some("http://127.0.0.1:9000"), Some("https://cdn.example/img/"))), "https://cdn.example/img");
    }
}

/// Against moto's S3 server, started here on a free port (`MOTO_SERVER` or `moto_server` on the PATH).
#[cfg(test)]
mod moto_tests {
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use super::*;

    struct Moto {
        child: Child,
        endpoint: String,
    }

    impl Drop for Moto {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// `None` (with a loud message) when moto is not installed and `TEST_REQUIRE_S3` is unset.
    fn start_moto() -> Option<Moto> {
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let child = match Command::new(&program).args(["-H", "127.0.0.1", "-p", &port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
            Ok(child) => child,
            Err(error) if std::env::var("TEST_REQUIRE_S3").is_err() => {
                eprintln!("\n*** S3 TEST SKIPPED: cannot start {program} ({error}); pip install 'moto[s3]' or run scripts/setup-test-env.sh ***\n");
                return None;
            }
            Err(error) => panic!("TEST_REQUIRE_S3 is set but {program} cannot start: {error}"),
        };
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not listen on {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    #[tokio::test]
    async fn puts_objects_path_style_with_content_type() {
        let Some(moto) = start_moto() else { return };
        let settings = S3Settings {
            bucket: "soko-images".into(),
            endpoint: url::Url::parse(&moto.endpoint).ok(),
            region: "us-east-1".into(),
            public_base_url: None,
            access_key_id: Some("testing".into()),
            secret_access_key: Some(secrecy::SecretString::from("testing")),
        };
        let store = S3Store::connect(&settings).await;
        store.client().create_bucket().bucket("soko-images").send().await.expect("create bucket");
        let url = store.put("products/1234567890123456.png", Bytes::from_static(b"\x89PNG fake"), "image/png").await.expect("put");
        assert_eq!(url, format!("{}/soko-images/products/1234567890123456.png", moto.endpoint));
        let object = store.client().get_object().bucket("soko-images").key("products/1234567890123456.png").send().await.expect("get");
        assert_eq!(object.content_type(), Some("image/png"));
        let body = object.body.collect().await.expect("body").into_bytes();
        assert_eq!(body.as_ref(), b"\x89PNG fake");
    }
}
