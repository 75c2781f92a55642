//! Bridge webhooks: the WAHA and Evolution fixtures parse into the expected
//! messages, and a running relay forwards them to a real receiver as signed
//! batches, refusing bad WAHA signatures and bad Evolution JWTs.
//!
//! Where the fixtures' shapes come from:
//! - WAHA: the `message` event in WAHA's docs (waha.devlike.pro/docs/how-to/events/,
//!   "message"; `WAMessage` in docs/openapi.json: `id, timestamp, from, fromMe, to,
//!   participant, body, hasMedia, media {url, mimetype, filename, error}, ack, vCards,
//!   _data`), and per engine the code that fills it in devlikeapro/waha:
//!   - WEBJS, `src/core/engines/webjs/session.webjs.core.ts` `toWAMessage` (commit
//!     55fc6a42): no `participant` at all, `body` is whatsapp-web.js's body (the
//!     caption for media), `_data` is the raw message (`type`, `author` = the group
//!     sender, `id.participant`, `notifyName`, `caption`, `mimetype`, `filehash`);
//!   - NOWEB, `src/core/engines/noweb/session.noweb.core.ts` `toWAMessage`:
//!     `participant` from the Baileys key, `body` from `extractBody` (the
//!     `…Message.caption` for media), `_data` the Baileys message.
//! - Evolution API: `src/api/integrations/event/webhook/webhook.controller.ts`
//!   (EvolutionAPI/evolution-api 2.3.6, commit 3454bec7): the body is `{event,
//!   instance, data, destination, date_time, sender, server_url, apikey}`, `apikey`
//!   is `null` unless `AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES=true`
//!   (`src/api/services/channel.service.ts`); with `headers.jwt_key` it sends
//!   `Authorization: Bearer` + `jwt.sign({iat, exp: now + 600, app: 'evolution',
//!   action: 'webhook'}, jwt_key, {algorithm: 'HS256'})` (`generateJwtToken`), and
//!   401 is in its `NON_RETRYABLE_STATUS_CODES`. `data` is a Baileys
//!   `WebMessageInfo` (`imageMessage`/`videoMessage`/`documentMessage` carry
//!   `mimetype`, `fileSha256`, `caption`; `documentWithCaptionMessage` wraps a
//!   captioned document).

use crate::receiver::Receiver;
use crate::{SECRET, TOKEN, sender_config, temp_dir};
use collector_client::Metrics;
use collector_client::message::{IngestMedia, IngestMessage};
use collector_client::metrics::Source;
use collector_client::relay::{ChatTitles, RelayConfig, RelayStartError, RunningRelay, evolution, evolution_jwt, waha};
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
    expected(
        "254798765432@c.us",
        "254798765432@c.us",
        Some("+254798765432"),
        "Mama Njeri",
        "false_254798765432@c.us_3A1F2B3C4D5E6F708192",
        "2024-06-01T10:30:00Z",
        "Do you have iPhone 13 in stock? Budget 55k",
    )
}

fn evolution_group() -> IngestMessage {
    expected("120363021234567890@g.us", "Nairobi Phones", Some("+254712345678"), "Otieno Tech", "3EB0A1B2C3D4E5F60718", "2024-06-01T11:06:40Z", "Pixel 8 Pro 256GB ex-UK - KSh 68,000")
}

fn evolution_direct() -> IngestMessage {
    expected("254798765432@s.whatsapp.net", "254798765432@s.whatsapp.net", Some("+254798765432"), "Mama Njeri", "3A5C7E9B1D3F5A7C9E1B", "2024-06-01T12:06:40Z", "Natafuta Samsung A05 ya 12k")
}

fn media(mime: &str, sha256: Option<&str>, caption: &str) -> Vec<IngestMedia> {
    vec![IngestMedia { url: None, mime_type: Some(mime.into()), sha256: sha256.map(Into::into), caption: Some(caption.into()) }]
}

/// WEBJS group photo: no top-level `participant`; the sender is `_data.author`.
fn waha_photo() -> IngestMessage {
    IngestMessage {
        media: media("image/jpeg", Some("318940c12f9569e1072207d959054af90c081947d49b5b8e0a5820a36651f7e8"), "Oppo Reno 11 - 45k"),
        ..expected(
            "120363021234567890@g.us",
            "Nairobi Phones",
            Some("+254712345678"),
            "Otieno Tech",
            "false_120363021234567890@g.us_3EB0D9E8F7A6B5C4D3E2_254712345678@c.us",
            "2024-06-01T09:31:40Z",
            "Oppo Reno 11 - 45k",
        )
    }
}

/// NOWEB group video with a caption.
fn waha_video() -> IngestMessage {
    IngestMessage {
        media: media("video/mp4", Some("8c077bbcb55842b5817d94675d48be65a840c8b5b4ddef6c4e3740e02858c0eb"), "Tecno Spark 20 unboxing, 8/256 - 16,500 bob"),
        ..expected(
            "120363021234567890@g.us",
            "Nairobi Phones",
            Some("+254733444555"),
            "Wanjiku Mobiles",
            "false_120363021234567890@g.us_3A7B9C1D3E5F7A9B1C3D_254733444555@c.us",
            "2024-06-01T09:33:40Z",
            "Tecno Spark 20 unboxing, 8/256 - 16,500 bob",
        )
    }
}

fn evolution_photo() -> IngestMessage {
    IngestMessage {
        media: media("image/jpeg", Some("fbdb3229e74658b3876fedfb4bf70d215c6551df580213ee45b26150b1ccbafc"), "Redmi Note 13 - 26k"),
        ..expected("120363021234567890@g.us", "Nairobi Phones", Some("+254712345678"), "Otieno Tech", "3EB0B2C3D4E5F6071829", "2024-06-01T11:08:20Z", "Redmi Note 13 - 26k")
    }
}

fn evolution_document() -> IngestMessage {
    IngestMessage {
        media: media("application/pdf", Some("d2743ea7e79fd91d8d51cca92f9e705946e043af066a35dfdad9475cbb5ddb61"), "Bei za leo: HP EliteBook 840 G6 - 38,000"),
        ..expected("120363021234567890@g.us", "Nairobi Phones", Some("+254722111000"), "Baraka Electronics", "3EB0F7A8B9C0D1E2F3A4", "2024-06-01T11:10:00Z", "Bei za leo: HP EliteBook 840 G6 - 38,000")
    }
}

fn evolution_lid() -> IngestMessage {
    expected("123456789012345@lid", "123456789012345@lid", Some("+254711222333"), "Kiptoo", "3EB05F4E3D2C1B0A9F8E", "2024-06-01T13:06:40Z", "Vivo Y17s 6/128 - 17,800")
}

#[test]
fn waha_fixtures_parse_into_the_expected_messages() {
    let titles = titles();
    assert_eq!(waha::parse_event(&fixture("waha_message_group_webjs.json"), &titles).messages, [waha_group()]);
    assert_eq!(waha::parse_event(&fixture("waha_message_direct_noweb.json"), &titles).messages, [waha_direct()]);
    // Captions count: a WEBJS photo and a NOWEB video, the media described.
    assert_eq!(waha::parse_event(&fixture("waha_message_image.json"), &titles).messages, [waha_photo()]);
    assert_eq!(waha::parse_event(&fixture("waha_message_video_noweb.json"), &titles).messages, [waha_video()]);
    // Only media without any text stays non_text.
    let bare = waha::parse_event(&fixture("waha_message_image_no_caption_webjs.json"), &titles);
    assert_eq!((bare.messages.len(), bare.ignored.iter().map(|i| i.as_str()).collect::<Vec<_>>()), (0, vec!["non_text"]));
    let status = waha::parse_event(&fixture("waha_session_status.json"), &titles);
    assert_eq!(status.ignored.iter().map(|i| i.as_str()).collect::<Vec<_>>(), ["not_a_message_event"]);
}

#[test]
fn evolution_fixtures_parse_into_the_expected_messages() {
    let titles = titles();
    assert_eq!(evolution::parse_event(&fixture("evolution_upsert_group_extended_text.json"), &titles).messages, [evolution_group()]);
    assert_eq!(evolution::parse_event(&fixture("evolution_upsert_direct_conversation.json"), &titles).messages, [evolution_direct()]);
    assert_eq!(evolution::parse_event(&fixture("evolution_upsert_lid_addressing.json"), &titles).messages, [evolution_lid()]);
    assert_eq!(evolution::parse_event(&fixture("evolution_upsert_image.json"), &titles).messages, [evolution_photo()]);
    assert_eq!(evolution::parse_event(&fixture("evolution_upsert_document_with_caption.json"), &titles).messages, [evolution_document()]);
    let audio = evolution::parse_event(&fixture("evolution_upsert_audio.json"), &titles);
    assert_eq!((audio.messages.len(), audio.ignored.iter().map(|i| i.as_str()).collect::<Vec<_>>()), (0, vec!["non_text"]));
    let mut bare = fixture("evolution_upsert_image.json");
    bare["data"]["message"]["imageMessage"]["caption"] = Value::Null;
    let bare = evolution::parse_event(&bare, &titles);
    assert_eq!((bare.messages.len(), bare.ignored.iter().map(|i| i.as_str()).collect::<Vec<_>>()), (0, vec!["non_text"]));
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
    let config = RelayConfig { waha_hmac_key: secret(WAHA_KEY), evolution_apikey: secret(EVOLUTION_KEY), evolution_jwt_key: None, chat_titles: titles(), insecure_no_auth: false };
    let relay = start(config).await;

    let group = fixture_bytes("waha_message_group_webjs.json");
    assert_eq!(relay.post("/waha", group.clone(), &signed(&group)).await, (200, serde_json::json!({"accepted": 1, "ignored": 0})));
    let direct = fixture_bytes("waha_message_direct_noweb.json");
    assert_eq!(relay.post("/waha", direct.clone(), &signed(&direct)).await.0, 200);
    let image = fixture_bytes("waha_message_image.json");
    assert_eq!(relay.post("/waha", image.clone(), &signed(&image)).await, (200, serde_json::json!({"accepted": 1, "ignored": 0})));
    let bare = fixture_bytes("waha_message_image_no_caption_webjs.json");
    assert_eq!(relay.post("/waha", bare.clone(), &signed(&bare)).await, (200, serde_json::json!({"accepted": 0, "ignored": 1})));
    assert_eq!(relay.post("/evolution", fixture_bytes("evolution_upsert_group_extended_text.json"), &[]).await.0, 200);
    assert_eq!(relay.post("/evolution/messages-upsert", fixture_bytes("evolution_upsert_direct_conversation.json"), &[]).await.0, 200);
    assert_eq!(relay.post("/evolution", fixture_bytes("evolution_upsert_lid_addressing.json"), &[]).await.0, 200);
    assert_eq!(relay.post("/evolution", fixture_bytes("evolution_upsert_image.json"), &[]).await.1["accepted"], 1);
    assert_eq!(relay.post("/evolution/connection-update", fixture_bytes("evolution_connection_update.json"), &[]).await.1["ignored"], 1);
    assert_eq!(relay.post("/evolution", b"not json".to_vec(), &[]).await.0, 400);

    let arrived = relay.wait_for_messages(7).await;
    assert_eq!(arrived, [waha_group(), waha_direct(), waha_photo(), evolution_group(), evolution_direct(), evolution_lid(), evolution_photo()]);
    // On the wire the photo is described as the gateway's schema takes it.
    let batches = relay.receiver.accepted_batches();
    let wire = serde_json::to_value(batches.iter().flat_map(|b| b.messages.clone()).nth(2).expect("photo")).expect("json");
    assert_eq!(
        wire["media"],
        serde_json::json!([{"kind": "image", "mime_type": "image/jpeg", "sha256": "318940c12f9569e1072207d959054af90c081947d49b5b8e0a5820a36651f7e8", "caption": "Oppo Reno 11 - 45k"}])
    );
    assert_eq!(relay.receiver.refused_auth(), 0);
    assert_eq!(relay.metrics.received(Source::Waha), 3);
    assert_eq!(relay.metrics.received(Source::Evolution), 4);
    assert_eq!(relay.metrics.ignored(Source::Waha, "non_text"), 1);
    assert_eq!(relay.metrics.ignored(Source::Evolution, "not_a_message_event"), 1);

    // The relay serves the status endpoints too, with what became of the messages.
    let mut health: Value = Value::Null;
    for _ in 0..200 {
        health = relay.client.get(format!("{}/healthz", relay.relay.url())).send().await.expect("healthz").json().await.expect("json");
        if health["messages"]["created"] == 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(health, serde_json::json!({"status": "ok", "messages": {"created": 7, "duplicate": 0, "waiting": 0, "waiting_batches": 0, "rejected": 0, "rejected_batches": 0}}));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waha_webhooks_without_a_valid_hmac_are_refused() {
    let config = RelayConfig { waha_hmac_key: secret(WAHA_KEY), evolution_apikey: None, evolution_jwt_key: None, chat_titles: titles(), insecure_no_auth: false };
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
    let config = RelayConfig { waha_hmac_key: None, evolution_apikey: secret(EVOLUTION_KEY), evolution_jwt_key: None, chat_titles: titles(), insecure_no_auth: false };
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
    let config = RelayConfig { waha_hmac_key: secret(WAHA_KEY), evolution_apikey: None, evolution_jwt_key: None, chat_titles: titles(), insecure_no_auth: true };
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

/// Evolution signs with `headers.jwt_key` (see the module note): a delivery
/// with its JWT is relayed, and every other one is refused with 401 (which
/// Evolution does not retry), counted, and forwards nothing. The fixtures'
/// `apikey` is `null`, Evolution's default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evolution_deliveries_are_verified_by_their_jwt() {
    const JWT_KEY: &str = "evolution-webhook-jwt-key";
    let config = RelayConfig { evolution_jwt_key: secret(JWT_KEY), chat_titles: titles(), ..RelayConfig::default() };
    let relay = start(config).await;
    let now = chrono::Utc::now().timestamp();
    let bearer = |token: String| vec![("Authorization", format!("Bearer {token}"))];
    let body = fixture_bytes("evolution_upsert_image.json");
    let mut no_apikey = fixture("evolution_upsert_image.json");
    no_apikey["apikey"] = Value::Null;
    let no_apikey = serde_json::to_vec(&no_apikey).expect("json");

    let (status, answer) = relay.post("/evolution", no_apikey.clone(), &bearer(evolution_jwt::sign_like_evolution(JWT_KEY.as_bytes(), now))).await;
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(1)), "{answer}");
    let document = fixture_bytes("evolution_upsert_document_with_caption.json");
    assert_eq!(relay.post("/evolution/messages-upsert", document, &bearer(evolution_jwt::sign_like_evolution(JWT_KEY.as_bytes(), now))).await.0, 200);

    let refusals = [
        (relay.post("/evolution", body.clone(), &[]).await, "missing_bearer_token"),
        (relay.post("/evolution", body.clone(), &bearer(evolution_jwt::sign_like_evolution(b"another key", now))).await, "invalid_token"),
        (relay.post("/evolution", body.clone(), &bearer(evolution_jwt::sign_like_evolution(JWT_KEY.as_bytes(), now - 1200))).await, "expired_token"),
        (relay.post("/evolution", body.clone(), &[("Authorization", format!("Bearer {}x", evolution_jwt::sign_like_evolution(JWT_KEY.as_bytes(), now)))]).await, "invalid_token"),
    ];
    for ((status, answer), code) in refusals {
        assert_eq!((status, answer["error"]["code"].as_str()), (401, Some(code)), "{answer}");
    }
    assert_eq!(relay.wait_for_messages(2).await, [evolution_photo(), evolution_document()]);
    assert_eq!(relay.metrics.received(Source::Evolution), 2, "refused deliveries forward nothing");
    assert_eq!(relay.metrics.ignored(Source::Evolution, "unauthenticated"), 4);
    relay.stop().await;
}

/// WAHA's group sender on every engine: WEBJS puts it in `_data.author`
/// (and `_data.id.participant`), NOWEB and GOWS in the top-level
/// `participant`. Each shape keeps its sender.
#[test]
fn a_group_message_keeps_its_sender_on_every_waha_engine() {
    let titles = titles();
    let mut only_author = fixture("waha_message_group_webjs.json");
    assert!(only_author["payload"].get("participant").is_none(), "WEBJS sends no top-level participant");
    only_author["payload"]["_data"]["id"]["participant"] = Value::Null;
    assert_eq!(waha::parse_event(&only_author, &titles).messages, [waha_group()]);

    let mut only_id = fixture("waha_message_group_webjs.json");
    only_id["payload"]["_data"].as_object_mut().expect("_data").remove("author");
    assert_eq!(waha::parse_event(&only_id, &titles).messages, [waha_group()]);
    // Newer whatsapp-web.js writes id.participant as a Wid object.
    only_id["payload"]["_data"]["id"]["participant"] = serde_json::json!({"server": "c.us", "user": "254712345678", "_serialized": "254712345678@c.us"});
    assert_eq!(waha::parse_event(&only_id, &titles).messages, [waha_group()]);

    // NOWEB: the top-level participant (the video fixture), also when `_data` is the Baileys message.
    assert_eq!(waha::parse_event(&fixture("waha_message_video_noweb.json"), &titles).messages[0].sender.as_deref(), Some("+254733444555"));
    // A hidden @lid participant falls back to a field with the number.
    let mut lid = fixture("waha_message_video_noweb.json");
    lid["payload"]["participant"] = Value::String("123456789012345@lid".into());
    assert_eq!(waha::parse_event(&lid, &titles).messages[0].sender.as_deref(), Some("+254733444555"));
}
