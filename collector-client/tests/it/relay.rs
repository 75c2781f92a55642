//! Bridge webhooks: the WAHA and Evolution fixtures (built from their public
//! docs) parse into the expected messages, and a running relay forwards them
//! to a real receiver as signed batches, refusing bad WAHA signatures.

use crate::receiver::Receiver;
use crate::{SECRET, TOKEN, sender_config, temp_dir};
use collector_client::message::IngestMessage;
use collector_client::metrics::Source;
use collector_client::relay::{ChatTitles, RelayConfig, RelayStartError, RunningRelay, evolution, waha};
use collector_client::Metrics;
use secrecy::SecretString;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const WAHA_KEY: &str = "waha-hmac-key";
/// The `apikey` the Evolution fixtures carry.
const EVOLUTION_KEY: &str = "B6D711FCDE4D4FD5936544120E713976";

fn secret(value: &str) -> Option<SecretString> {
    Some(SecretString::from(value.to_owned()))
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/relay").join(name)).expect("fixture")
}

fn fixture(name: &str) -> Value {
    serde_json::from_slice(&fixture_bytes(name)).expect("fixture json")
}

fn titles() -> ChatTitles {
    let map: HashMap<String, String> = serde_json::from_value(fixture("chat_titles.json")).expect("titles");
    ChatTitles::new(map)
}

fn expected(chat: &str, title: &str, sender: Option<&str>, name: &str, id: &str, at: &str, text: &str) -> IngestMessage {
    IngestMessage {
        chat_id: Some(chat.into()),
        chat_title: title.into(),
        sender: sender.map(Into::into),
        sender_name: Some(name.into()),
        message_id: Some(id.into()),
        timestamp: Some(Value::String(at.into())),
        text: Some(text.into()),
        media: Vec::new(),
    }
}

fn waha_group() -> IngestMessage {
    expected(
        "120363021234567890@g.us",
        "Nairobi Phones",
        Some("+254712345678"),
        "Otieno Tech",
        "false_120363021234567890@g.us_3EB0C4A1B2D3E4F5A6B7_254712345678@c.us",
        "2024-06-01T09:30:00Z",
        "Samsung Galaxy A15 128GB - KSh 19,999",
    )
}

fn waha_direct() -> IngestMessage {
    expected("254798765432@c.us", "254798765432@c.us", Some("+254798765432"), "Mama Njeri", "false_254798765432@c.us_3A1F2B3C4D5E6F708192", "2024-06-01T10:30:00Z", "Do you have iPhone 13 in stock? Budget 55k")
}

fn evolution_group() -> IngestMessage {
    expected("120363021234567890@g.us", "Nairobi Phones", Some("+254712345678"), "Otieno Tech", "3EB0A1B2C3D4E5F60718", "2024-06-01T11:06:40Z", "Pixel 8 Pro 256GB ex-UK - KSh 68,000")
}

fn evolution_direct() -> IngestMessage {
    expected("254798765432@s.whatsapp.net", "254798765432@s.whatsapp.net", Some("+254798765432"), "Mama Njeri", "3A5C7E9B1D3F5A7C9E1B", "2024-06-01T12:06:40Z", "Natafuta Samsung A05 ya 12k")
}

fn evolution_lid() -> IngestMessage {
    expected("123456789012345@lid", "123456789012345@lid", Some("+254711222333"), "Kiptoo", "3EB05F4E3D2C1B0A9F8E", "2024-06-01T13:06:40Z", "Vivo Y17s 6/128 - 17,800")
}

#[test]
fn waha_fixtures_parse_into_the_expected_messages() {
    let titles = titles();
    assert_eq!(waha::parse_event(&fixture("waha_message_group_webjs.json"), &titles).messages, [waha_group()]);
    assert_eq!(waha::parse_event(&fixture("waha_message_direct_noweb.json"), &titles).messages, [waha_direct()]);
    let image = waha::parse_event(&fixture("waha_message_image.json"), &titles);
    assert!(image.messages.is_empty());
    assert_eq!(image.ignored.iter().map(|i| i.as_str()).collect::<Vec<_>>(), ["non_text"]);
    let status = waha::parse_event(&fixture("waha_session_status.json"), &titles);
    assert_eq!(status.ignored.iter().map(|i| i.as_str()).collect::<Vec<_>>(), ["not_a_message_event"]);
}

#[test]
fn evolution_fixtures_parse_into_the_expected_messages() {
    let titles = titles();
    assert_eq!(evolution::parse_event(&fixture("evolution_upsert_group_extended_text.json"), &titles).messages, [evolution_group()]);
    assert_eq!(evolution::parse_event(&fixture("evolution_upsert_direct_conversation.json"), &titles).messages, [evolution_direct()]);
    assert_eq!(evolution::parse_event(&fixture("evolution_upsert_lid_addressing.json"), &titles).messages, [evolution_lid()]);
    let image = evolution::parse_event(&fixture("evolution_upsert_image.json"), &titles);
    assert_eq!((image.messages.len(), image.ignored.iter().map(|i| i.as_str()).collect::<Vec<_>>()), (0, vec!["non_text"]));
    let connection = evolution::parse_event(&fixture("evolution_connection_update.json"), &titles);
    assert_eq!(connection.ignored.iter().map(|i| i.as_str()).collect::<Vec<_>>(), ["not_a_message_event"]);
    // Older versions send data as an array.
    let mut array = fixture("evolution_upsert_direct_conversation.json");
    array["data"] = Value::Array(vec![array["data"].clone(), fixture("evolution_upsert_lid_addressing.json")["data"].clone()]);
    assert_eq!(evolution::parse_event(&array, &titles).messages, [evolution_direct(), evolution_lid()]);
}

struct RelayUnderTest {
    receiver: Receiver,
    relay: RunningRelay,
    metrics: Arc<Metrics>,
    client: reqwest::Client,
    _spool: tempfile::TempDir,
}

async fn start(config: RelayConfig) -> RelayUnderTest {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let spool = temp_dir();
    let mut sender_settings = sender_config(&receiver.ingest_url, spool.path());
    sender_settings.flush_interval = Duration::from_millis(50);
    let metrics = Arc::new(Metrics::new());
    let relay = RunningRelay::start("127.0.0.1:0", sender_settings, config, metrics.clone()).await.expect("relay");
    assert_ne!(relay.local_addr().port(), 0);
    RelayUnderTest { receiver, relay, metrics, client: reqwest::Client::new(), _spool: spool }
}

impl RelayUnderTest {
    async fn post(&self, path: &str, body: Vec<u8>, headers: &[(&str, String)]) -> (u16, Value) {
        let mut request = self.client.post(format!("{}{path}", self.relay.url())).header("Content-Type", "application/json").body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("post");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn wait_for_messages(&self, count: usize) -> Vec<IngestMessage> {
        for _ in 0..600 {
            let accepted = self.receiver.accepted_messages();
            if accepted.len() >= count {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} messages at the receiver, got {:?}", self.receiver.accepted_messages());
    }

    async fn stop(self) {
        self.relay.stop().await;
        self.receiver.stop().await;
    }
}

fn signed(body: &[u8]) -> Vec<(&'static str, String)> {
    vec![(waha::HMAC_HEADER, waha::sign(WAHA_KEY.as_bytes(), body)), (waha::HMAC_ALGORITHM_HEADER, "sha512".into())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_from_both_bridges_arrive_as_signed_batches() {
    let config = RelayConfig { waha_hmac_key: secret(WAHA_KEY), evolution_apikey: secret(EVOLUTION_KEY), chat_titles: titles(), insecure_no_auth: false };
    let relay = start(config).await;

    let group = fixture_bytes("waha_message_group_webjs.json");
    assert_eq!(relay.post("/waha", group.clone(), &signed(&group)).await, (200, serde_json::json!({"accepted": 1, "ignored": 0})));
    let direct = fixture_bytes("waha_message_direct_noweb.json");
    assert_eq!(relay.post("/waha", direct.clone(), &signed(&direct)).await.0, 200);
    let image = fixture_bytes("waha_message_image.json");
    assert_eq!(relay.post("/waha", image.clone(), &signed(&image)).await, (200, serde_json::json!({"accepted": 0, "ignored": 1})));
    assert_eq!(relay.post("/evolution", fixture_bytes("evolution_upsert_group_extended_text.json"), &[]).await.0, 200);
    assert_eq!(relay.post("/evolution/messages-upsert", fixture_bytes("evolution_upsert_direct_conversation.json"), &[]).await.0, 200);
    assert_eq!(relay.post("/evolution", fixture_bytes("evolution_upsert_lid_addressing.json"), &[]).await.0, 200);
    assert_eq!(relay.post("/evolution", fixture_bytes("evolution_upsert_image.json"), &[]).await.1["ignored"], 1);
    assert_eq!(relay.post("/evolution/connection-update", fixture_bytes("evolution_connection_update.json"), &[]).await.1["ignored"], 1);
    assert_eq!(relay.post("/evolution", b"not json".to_vec(), &[]).await.0, 400);

    let arrived = relay.wait_for_messages(5).await;
    assert_eq!(arrived, [waha_group(), waha_direct(), evolution_group(), evolution_direct(), evolution_lid()]);
    assert_eq!(relay.receiver.refused_auth(), 0);
    assert_eq!(relay.metrics.received(Source::Waha), 2);
    assert_eq!(relay.metrics.received(Source::Evolution), 3);
    assert_eq!(relay.metrics.ignored(Source::Waha, "non_text"), 1);
    assert_eq!(relay.metrics.ignored(Source::Evolution, "non_text"), 1);
    assert_eq!(relay.metrics.ignored(Source::Evolution, "not_a_message_event"), 1);

    // The relay serves the status endpoints too.
    let health: Value = relay.client.get(format!("{}/healthz", relay.relay.url())).send().await.expect("healthz").json().await.expect("json");
    assert_eq!(health, serde_json::json!({"status": "ok"}));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waha_webhooks_without_a_valid_hmac_are_refused() {
    let config = RelayConfig { waha_hmac_key: secret(WAHA_KEY), evolution_apikey: None, chat_titles: titles(), insecure_no_auth: false };
    let relay = start(config).await;
    let body = fixture_bytes("waha_message_group_webjs.json");

    assert_eq!(relay.post("/waha", body.clone(), &[]).await.0, 401, "unsigned");
    let wrong_key = vec![(waha::HMAC_HEADER, waha::sign(b"another-key", &body))];
    assert_eq!(relay.post("/waha", body.clone(), &wrong_key).await.0, 401, "signed with another key");
    let mut tampered = body.clone();
    let position = tampered.windows(5).position(|w| w == b"19,99").expect("price in fixture");
    tampered[position] = b'9';
    assert_eq!(relay.post("/waha", tampered, &signed(&body)).await.0, 401, "body changed after signing");
    let wrong_algorithm = vec![(waha::HMAC_HEADER, waha::sign(WAHA_KEY.as_bytes(), &body)), (waha::HMAC_ALGORITHM_HEADER, "sha256".into())];
    assert_eq!(relay.post("/waha", body.clone(), &wrong_algorithm).await.0, 401, "other algorithm");
    let (status, answer) = relay.post("/waha", body.clone(), &signed(&body)).await;
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(1)));

    assert_eq!(relay.wait_for_messages(1).await, [waha_group()]);
    assert_eq!(relay.metrics.received(Source::Waha), 1, "refused webhooks forward nothing");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evolution_webhooks_must_carry_the_apikey_and_waha_without_its_key_is_off() {
    let config = RelayConfig { waha_hmac_key: None, evolution_apikey: secret(EVOLUTION_KEY), chat_titles: titles(), insecure_no_auth: false };
    let relay = start(config).await;
    let mut wrong = fixture("evolution_upsert_direct_conversation.json");
    wrong["apikey"] = Value::String("guessed".into());
    assert_eq!(relay.post("/evolution", serde_json::to_vec(&wrong).expect("json"), &[]).await.0, 401);
    assert_eq!(relay.post("/evolution", fixture_bytes("evolution_upsert_direct_conversation.json"), &[]).await.0, 200);
    // Without its key the WAHA endpoint takes nothing, signed or not.
    let body = fixture_bytes("waha_message_direct_noweb.json");
    let (status, answer) = relay.post("/waha", body.clone(), &[]).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("relay_disabled")));
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("WAHA_WEBHOOK_HMAC_KEY"), "{answer}");
    assert_eq!(relay.post("/waha", body.clone(), &signed(&body)).await.0, 404);
    assert_eq!(relay.wait_for_messages(1).await, [evolution_direct()]);
    assert_eq!(relay.metrics.received(Source::Waha), 0);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_without_any_webhook_secret_refuses_to_start() {
    let receiver = Receiver::start(TOKEN, Some(SECRET));
    let root = temp_dir();
    let spool = root.path().join("spool");
    let config = RelayConfig { chat_titles: titles(), ..RelayConfig::default() };
    let started = RunningRelay::start("127.0.0.1:0", sender_config(&receiver.ingest_url, &spool), config, Arc::new(Metrics::new())).await;
    let error = started.err().expect("refused");
    assert!(matches!(error, RelayStartError::NoAuth(_)), "{error}");
    let message = error.to_string();
    for name in ["WAHA_WEBHOOK_HMAC_KEY", "EVOLUTION_WEBHOOK_APIKEY", "--insecure-no-auth"] {
        assert!(message.contains(name), "{message}");
    }
    assert!(!spool.exists(), "refused before the spool was touched");
    // An empty secret is no secret either.
    let empty = RelayConfig { waha_hmac_key: secret(""), evolution_apikey: secret(""), ..RelayConfig::default() };
    let started = RunningRelay::start("127.0.0.1:0", sender_config(&receiver.ingest_url, &spool), empty, Arc::new(Metrics::new())).await;
    assert!(matches!(started, Err(RelayStartError::NoAuth(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_no_auth_opens_only_the_endpoints_without_a_secret() {
    let config = RelayConfig { waha_hmac_key: secret(WAHA_KEY), evolution_apikey: None, chat_titles: titles(), insecure_no_auth: true };
    let relay = start(config).await;
    // WAHA has its key: still checked.
    let body = fixture_bytes("waha_message_group_webjs.json");
    assert_eq!(relay.post("/waha", body, &[]).await.0, 401);
    // Evolution has none: open, whatever apikey the body carries.
    let mut anything = fixture("evolution_upsert_direct_conversation.json");
    anything["apikey"] = Value::Null;
    assert_eq!(relay.post("/evolution", serde_json::to_vec(&anything).expect("json"), &[]).await.0, 200);
    assert_eq!(relay.wait_for_messages(1).await, [evolution_direct()]);
    relay.stop().await;
}
