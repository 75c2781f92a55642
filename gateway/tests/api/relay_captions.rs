//! Photo posts through the collector's relay into the real gateway (issue 19, item 3): a WAHA
//! and an Evolution image message with a caption each become an offer, and the Evolution
//! delivery is let in by its webhook JWT alone (no `apikey` in the body, Evolution's default).
//! The payloads are the collector's fixtures, shaped as WAHA and Evolution document them
//! (sources cited in `collector-client/tests/it/relay.rs`). Both processes talk over sockets:
//! bridge → relay → gateway.

use std::{path::PathBuf, sync::Arc, time::Duration};

use collector_client::{
    Metrics, RelayConfig, RunningRelay, SenderConfig,
    relay::{evolution_jwt, waha},
};
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{SECRET, TOKEN, spawn_app};

const WAHA_KEY: &str = "waha-webhook-key";
const JWT_KEY: &str = "evolution-jwt-key";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../collector-client/tests/fixtures/relay").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captioned_photos_from_waha_and_evolution_become_offers() {
    let app = spawn_app().await;
    let spool = tempfile::tempdir().expect("spool dir");
    let ingest = url::Url::parse(&format!("{}/integrations/whatsapp/ingest", app.address)).expect("ingest url");
    let mut sender = SenderConfig::new(ingest, SecretString::from(TOKEN.to_owned()), "relay-e2e", spool.path());
    sender.hmac_secret = Some(SecretString::from(SECRET.to_owned()));
    sender.flush_interval = Duration::from_millis(50);
    let config = RelayConfig {
        waha_hmac_key: Some(SecretString::from(WAHA_KEY.to_owned())),
        evolution_jwt_key: Some(SecretString::from(JWT_KEY.to_owned())),
        ..RelayConfig::default()
    };
    let relay = RunningRelay::start("127.0.0.1:0", sender, config, Arc::new(Metrics::new())).await.expect("relay starts");
    let client = reqwest::Client::new();

    let waha_photo = fixture("waha_message_image.json");
    let answer = client
        .post(format!("{}/waha", relay.url()))
        .header("Content-Type", "application/json")
        .header(waha::HMAC_HEADER, waha::sign(WAHA_KEY.as_bytes(), &waha_photo))
        .header(waha::HMAC_ALGORITHM_HEADER, "sha512")
        .body(waha_photo)
        .send()
        .await
        .expect("waha post");
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.json::<Value>().await.expect("json")["accepted"], 1);

    // Evolution's own signature: a JWT in `Authorization`, no apikey anywhere.
    let evolution_photo = fixture("evolution_upsert_image.json");
    let jwt = evolution_jwt::sign_like_evolution(JWT_KEY.as_bytes(), chrono::Utc::now().timestamp());
    let refused = client
        .post(format!("{}/evolution", relay.url()))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Bearer {}", evolution_jwt::sign_like_evolution(b"another key", chrono::Utc::now().timestamp())))
        .body(evolution_photo.clone())
        .send()
        .await
        .expect("evolution post, wrong key");
    assert_eq!(refused.status().as_u16(), 401, "a JWT signed with another key is refused");
    let answer = client
        .post(format!("{}/evolution", relay.url()))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Bearer {jwt}"))
        .body(evolution_photo)
        .send()
        .await
        .expect("evolution post");
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.json::<Value>().await.expect("json")["accepted"], 1);

    // Both reach the gateway and are extracted into offers priced from their captions.
    app.wait_extracted(2).await;
    let mut offers = Vec::new();
    for _ in 0..100 {
        let answer = app.read("/offers?limit=50").await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        offers = answer.body["offers"].as_array().cloned().unwrap_or_default();
        if offers.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let find = |needle: &str| {
        offers
            .iter()
            .find(|o| o["title"].as_str().is_some_and(|t| t.contains(needle)))
            .unwrap_or_else(|| panic!("no offer titled {needle:?} in {offers:?}"))
            .clone()
    };
    let oppo = find("Oppo Reno 11");
    assert_eq!(oppo["price"], "45000");
    let redmi = find("Redmi Note 13");
    assert_eq!(redmi["price"], "26000");
    // Both came from the group's seller, whose number the read token sees masked.
    for offer in [&oppo, &redmi] {
        let sender = offer["sender"].as_str().expect("sender");
        assert!(sender.ends_with("678") && !sender.contains("712345"), "{sender:?}");
    }
    relay.stop().await;
}
