//! Token and secret rotation without downtime (seed 002 §7.2).

use crate::helpers::{TestApp, batch, message, spawn_app_with};

async fn post_with(app: &TestApp, text: &str, token: &str, secret: &str) -> u16 {
    let body = serde_json::to_vec(&batch("rotating", vec![message("Chat", text)])).expect("json");
    app.post_signed_body(body, token, secret).await.status
}

#[tokio::test]
async fn old_and_new_credentials_are_both_accepted_during_rotation() {
    let app = spawn_app_with(&[
        ("WHATSAPP_INGEST_TOKEN", "old-token,new-token"),
        ("WHATSAPP_INGEST_HMAC_SECRET", "old-secret, new-secret"),
    ])
    .await;
    assert_eq!(post_with(&app, "a", "old-token", "old-secret").await, 200);
    assert_eq!(post_with(&app, "b", "new-token", "new-secret").await, 200);
    assert_eq!(post_with(&app, "c", "old-token", "new-secret").await, 200);
    assert_eq!(post_with(&app, "d", "retired-token", "new-secret").await, 401);
    assert_eq!(post_with(&app, "e", "new-token", "retired-secret").await, 403);
    assert_eq!(app.count_messages().await, 3);
    app.finish().await;
}

#[tokio::test]
async fn after_rotation_the_retired_credentials_are_refused() {
    let app = spawn_app_with(&[("WHATSAPP_INGEST_TOKEN", "new-token"), ("WHATSAPP_INGEST_HMAC_SECRET", "new-secret")]).await;
    assert_eq!(post_with(&app, "a", "old-token", "old-secret").await, 401);
    assert_eq!(post_with(&app, "b", "new-token", "old-secret").await, 403);
    assert_eq!(post_with(&app, "c", "new-token", "new-secret").await, 200);
    app.finish().await;
}
