//! Semantic and visual search against the real app (issue 15), on SQLite and, with
//! `TEST_DATABASE=postgres`, on PostgreSQL: products hydrated and embedded by the chain (tiny SigLIP
//! test model) are found by their own image through `POST /search/image`, as a multipart file and
//! as an `image_url`; `GET /products/{id}/similar` gives the others; offers and products get MiniLM
//! text vectors from the `embed_text` job; a second app on the same database finds the same; and
//! every bad input gets its answer.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::helpers::{Answer, READ_TOKEN, TestApp, TestDatabase, batch, message, spawn_app, start_on};
use crate::media_e2e::{PRODUCTS, chain_settings, image_of, ingest_catalog_link, model_settings, product_id, repo_root, start_wa_fixture, wait_for_chain};

/// The all-MiniLM-L6-v2 export `scripts/setup-test-env.sh` writes.
pub(crate) fn text_model_dir() -> String {
    let dir = std::env::var("SEARCH_TEST_MODEL_DIR").unwrap_or_else(|_| repo_root().join(".cache/search-text-model").display().to_string());
    assert!(
        Path::new(&dir).join("text_search.onnx").is_file(),
        "the MiniLM export is missing ({dir}): run scripts/setup-test-env.sh and `source .cache/test-env.sh`"
    );
    dir
}

fn bearer() -> String {
    format!("Bearer {READ_TOKEN}")
}

fn multipart_body(field: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "soko-test-boundary-7f3a";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"q.img\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_image(app: &TestApp, bytes: &[u8]) -> Answer {
    let (content_type, body) = multipart_body("file", bytes);
    let auth = bearer();
    app.post_with("/search/image", &[("content-type", &content_type), ("authorization", &auth)], body).await
}

async fn post_image_url(app: &TestApp, url: &str) -> Answer {
    let auth = bearer();
    let body = serde_json::json!({ "image_url": url }).to_string();
    app.post_with("/search/image", &[("content-type", "application/json"), ("authorization", &auth)], body).await
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.body["results"].as_array().map(|r| r.iter().filter_map(|h| h["id"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// Polls an image query until its top result is `want` (the index follows the database within a
/// poll); panics after 30 s with the last answer.
async fn top_result_becomes(app: &TestApp, image: &[u8], want: &str) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = post_image(app, image).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        if ids(&answer).first().map(String::as_str) == Some(want) {
            return answer;
        }
        assert!(Instant::now() < deadline, "{want} never became the top result: {:?}", answer.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn hydrated_products_are_found_by_their_own_image_and_by_a_second_replica() {
    let wa = start_wa_fixture().await;
    let (models, ort) = model_settings();
    let text_models = text_model_dir();
    let images = tempfile::tempdir().expect("image dir");
    let index_dir = tempfile::tempdir().expect("index dir");
    let image_dir = images.path().display().to_string();
    let index_path = index_dir.path().display().to_string();
    let mut settings = chain_settings(&wa, &models, &ort);
    settings.extend([
        ("IMAGE_STORE", "local"),
        ("IMAGE_DIR", image_dir.as_str()),
        ("SEARCH_TEXT_MODEL_DIR", text_models.as_str()),
        ("SEARCH_INDEX_DIR", index_path.as_str()),
        ("SEARCH_INDEX_POLL_MS", "100"),
    ]);
    let app = start_on(TestDatabase::create().await, &settings).await;
    ingest_catalog_link(&app).await;
    let offer_text = "Samsung Galaxy A14 64GB brand new 18,500\nLeather sofa 3 seater 45,000";
    assert_eq!(app.post_ingest(&batch("semantic", vec![message("Soko Sellers", offer_text)])).await.status, 200);
    wait_for_chain(&app).await;

    // Each product's own image finds it first, with a cosine of about 1.
    for n in 1..=PRODUCTS {
        let (bytes, _, _) = image_of(n);
        let found = top_result_becomes(&app, &bytes, &product_id(n)).await;
        let top = &found.body["results"][0];
        assert!(top["score"].as_f64().unwrap_or(0.0) > 0.999, "{top:?}");
        assert_eq!(found.body["mode"], "visual");
        assert_eq!(top["kind"], "product");
    }
    // The same through an image URL, fetched through the fence (the fixture is a trusted origin).
    let by_url = post_image_url(&app, &format!("{wa}/img/2")).await;
    assert_eq!(by_url.status, 200, "{:?}", by_url.body);
    assert_eq!(ids(&by_url).first(), Some(&product_id(2)));

    // Neighbours: the other products, never the product itself.
    for space in ["", "&space=image", "&space=hybrid"] {
        let similar = app.read(&format!("/products/{}/similar?limit=10{space}", product_id(1))).await;
        assert_eq!(similar.status, 200, "{space}: {:?}", similar.body);
        let mut got = ids(&similar);
        got.sort();
        assert_eq!(got, vec![product_id(2), product_id(3)], "{space}");
    }

    // Text vectors: the job embeds both offers and every product, once.
    app.db.wait_for("SELECT COUNT(*) FROM listing_embeddings WHERE kind = 'offer'", 2, Duration::from_secs(60)).await;
    app.db.wait_for("SELECT COUNT(*) FROM listing_embeddings WHERE kind = 'product'", PRODUCTS as i64, Duration::from_secs(60)).await;
    let dims = app.db.query_i64("SELECT DISTINCT dims FROM listing_embeddings").await;
    assert_eq!(dims, vec![384], "all-MiniLM-L6-v2 vectors");
    let text_similar = app.read(&format!("/products/{}/similar?space=text", product_id(1))).await;
    assert_eq!(text_similar.status, 200, "{:?}", text_similar.body);
    assert_eq!(text_similar.body["mode"], "semantic");

    // PostgreSQL: a second replica on the same database, with no job workers, finds what the first
    // indexed (the embedded SQLite runs one process per database file).
    if crate::helpers::backend() == "postgres" {
        let mut replica_settings = settings.clone();
        replica_settings.push(("JOB_WORKERS", "false"));
        let replica_dir = tempfile::tempdir().expect("replica index dir");
        let replica_path = replica_dir.path().display().to_string();
        replica_settings.push(("SEARCH_INDEX_DIR", replica_path.as_str()));
        let replica = start_on(app.db.share(), &replica_settings).await;
        let (bytes, _, _) = image_of(3);
        top_result_becomes(&replica, &bytes, &product_id(3)).await;
        replica.stop().await;
    }

    // Bad inputs.
    let garbage = post_image(&app, b"this is not an image at all").await;
    assert_eq!((garbage.status, garbage.error_code()), (422, "undecodable_image"), "{:?}", garbage.body);
    let (content_type, body) = multipart_body("photo", &image_of(1).0);
    let auth = bearer();
    let no_file = app.post_with("/search/image", &[("content-type", &content_type), ("authorization", &auth)], body).await;
    assert_eq!(no_file.status, 400, "{:?}", no_file.body);
    let text_plain = app.post_with("/search/image", &[("content-type", "text/plain"), ("authorization", &auth)], "hello").await;
    assert_eq!(text_plain.status, 415);
    let (content_type, body) = multipart_body("file", &image_of(1).0);
    let anonymous = app.post_with("/search/image", &[("content-type", &content_type)], body).await;
    assert_eq!(anonymous.status, 401);
    let refused = post_image_url(&app, "file:///etc/passwd").await;
    assert_eq!((refused.status, refused.error_code()), (400, "image_url_refused"), "{:?}", refused.body);
    let unknown = app.read("/products/1999999999999999/similar").await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
    let bad_space = app.read(&format!("/products/{}/similar?space=smell", product_id(1))).await;
    assert_eq!(bad_space.status, 400);
    let db = app.stop().await;

    // A restart restores the snapshot the first app saved in SEARCH_INDEX_DIR at shutdown.
    assert!(index_dir.path().join("semantic-index.bin").is_file(), "the snapshot is saved at shutdown");
    let mut again = settings.clone();
    again.push(("JOB_WORKERS", "false"));
    let restarted = start_on(db.share(), &again).await;
    let (bytes, _, _) = image_of(2);
    top_result_becomes(&restarted, &bytes, &product_id(2)).await;
    restarted.stop().await;

    // A restart with a small MEDIA_MAX_IMAGE_BYTES: the same image is now too large (413).
    let mut small = settings.clone();
    small.extend([("MEDIA_MAX_IMAGE_BYTES", "1024"), ("JOB_WORKERS", "false")]);
    let capped = start_on(db.share(), &small).await;
    let (bytes, _, _) = image_of(1);
    assert!(bytes.len() > 1024);
    let too_large = post_image(&capped, &bytes).await;
    assert_eq!((too_large.status, too_large.error_code()), (413, "image_too_large"), "{:?}", too_large.body);
    capped.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn without_an_embedding_model_both_routes_answer_503() {
    let app = spawn_app().await;
    let (content_type, body) = multipart_body("file", &image_of(1).0);
    let auth = bearer();
    let image = app.post_with("/search/image", &[("content-type", &content_type), ("authorization", &auth)], body).await;
    assert_eq!(image.status, 503, "{:?}", image.body);
    assert_eq!(image.error_message(), "no embedding model configured");
    let similar = app.read(&format!("/products/{}/similar", product_id(1))).await;
    assert_eq!(similar.status, 503, "{:?}", similar.body);
    assert_eq!(similar.error_message(), "no embedding model configured");
    let text = app.read(&format!("/products/{}/similar?space=text", product_id(1))).await;
    assert_eq!(text.status, 503);
    app.finish().await;
}
