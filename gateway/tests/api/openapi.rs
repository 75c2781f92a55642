//! The OpenAPI document and the reference page as a client sees them, and the
//! regressions schemathesis found (`scripts/schemathesis.sh`).

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn the_document_is_served_as_openapi_3_1_without_a_token() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.header("content-type"), Some("application/json"));
    assert_eq!(doc.body["openapi"], "3.1.0");
    for path in ["/integrations/whatsapp/ingest", "/offers", "/products/{product_id}", "/admin/jobs/{id}/retry", "/openapi.json"] {
        assert!(doc.body["paths"][path].is_object(), "{path} missing");
    }
    let ingest = &doc.body["paths"]["/integrations/whatsapp/ingest"]["post"];
    assert_eq!(ingest["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/BatchPayload");
    assert_eq!(ingest["security"][0], serde_json::json!({"ingest_token": [], "ingest_signature": []}));
    assert_eq!(ingest["responses"]["429"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody");
    app.finish().await;
}

#[tokio::test]
async fn the_reference_page_and_its_assets_come_from_the_binary() {
    let app = spawn_app().await;
    for path in ["/docs", "/docs/"] {
        let page = app.client.get(app.url(path)).send().await.expect("request sent");
        assert_eq!(page.status(), 200, "{path}");
        assert!(page.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/html"));
        let csp = page.headers()["content-security-policy"].to_str().unwrap_or_default().to_owned();
        assert!(csp.starts_with("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        let html = page.text().await.expect("text");
        assert!(html.contains("/docs/swagger-ui-bundle.js") && html.contains("/docs/swagger-ui.css"), "{html}");
        assert!(!html.contains("http://") && !html.contains("https://"), "no CDN: {html}");
    }
    let initializer = app.get_text("/docs/swagger-initializer.js").await;
    assert!(initializer.contains("/openapi.json"), "{initializer}");
    let bundle = app.client.get(app.url("/docs/swagger-ui-bundle.js")).send().await.expect("request sent");
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.expect("bytes").len() > 100_000, "the bundle is served whole");
    let missing = app.get("/docs/no-such-file.js").await;
    assert_eq!((missing.status, missing.error_code()), (404, "not_found"));
    app.finish().await;
}

/// Found while probing the documented `GET /images/{key}` (a key is any safe path of up to 512
/// bytes): a segment longer than the file system allows, or a path through a file, answered 500.
#[tokio::test]
async fn image_keys_the_file_system_cannot_hold_are_404_not_500() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("products")).expect("mkdir");
    std::fs::write(dir.path().join("products/1.png"), b"png").expect("write");
    let image_dir = dir.path().to_string_lossy().into_owned();
    let app = spawn_app_with(&[("IMAGE_STORE", "local"), ("IMAGE_DIR", &image_dir)]).await;
    let stored = app.client.get(app.url("/images/products/1.png")).send().await.expect("request sent");
    assert_eq!(stored.status(), 200, "the fixture image is served");
    for key in [format!("{}.png", "a".repeat(300)), "products/1.png/2.png".to_owned()] {
        let answer = app.get(&format!("/images/{key}")).await;
        assert_eq!((answer.status, answer.error_code()), (404, "not_found"), "{key}: {:?}", answer.body);
    }
    app.finish().await;
}
