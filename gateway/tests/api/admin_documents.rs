//! `/admin/documents` (issue 16): the upload form, the list and a document's page with its row
//! errors, rendered by headless Chromium; the form's post (a browser's `Accept: text/html`, basic
//! credentials and this gateway's `Origin`) is redirected to the new document's page, and the same
//! post from another site is refused; a refused upload gives the browser the form back with the
//! reason.

use crate::browser::run_chromium;
use crate::documents::{form, wait_for_final};
use crate::helpers::spawn_app_with;

const LIST: &str = "SKU,Description,Price (KES),Qty\nIP12,iPhone 12 64GB,\"45,000\",3\nBAD,Mystery phone,call me,1\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_pages_upload_list_and_show_row_errors_in_chromium() {
    let app = spawn_app_with(&[("ADMIN_TOKEN", "admin-secret"), ("JOB_POLL_SECONDS", "0.05")]).await;
    let (content_type, body) = form(&[("file", Some("kamau <list>.csv"), LIST.as_bytes()), ("vendor", None, b"Kamau Electronics")]);
    let post = |origin: &str| {
        app.client
            .post(app.url("/documents"))
            .basic_auth("admin", Some("admin-secret"))
            .header("content-type", content_type.clone())
            .header("accept", "text/html,application/xhtml+xml")
            .header("origin", origin.to_owned())
            .body(body.clone())
    };
    let foreign = post("https://evil.example").send().await.expect("sent");
    assert_eq!(foreign.status(), 403, "a form on another site cannot upload with the admin's credentials");
    let posted = post(&app.address).send().await.expect("sent");
    assert_eq!(posted.status(), 303);
    let location = posted.headers()["location"].to_str().expect("location").to_owned();
    let id: i64 = location.strip_prefix("/admin/documents/").and_then(|id| id.parse().ok()).expect("the document's page");
    let document = wait_for_final(&app, id).await;
    assert_eq!(document["status"], "done", "{document}");

    let base = app.address.replace("http://", "http://admin:admin-secret@");
    let profile = tempfile::tempdir().expect("profile dir");
    for (path, expected) in [
        ("/admin/documents".to_owned(), vec!["Import a price list", "Upload and import", "kamau &lt;list&gt;.csv", "Kamau Electronics", "1 new", "1 errors"]),
        (location.clone(), vec!["Rows that could not be read (1)", "price \"call me\" is not a number", "Download the file", "Its offers"]),
        ("/admin/documents?status=failed".to_owned(), vec!["No documents match."]),
    ] {
        let dom = run_chromium(profile.path(), &["--dump-dom"], &format!("{base}{path}"));
        let html = String::from_utf8_lossy(&dom.stdout);
        for needle in expected {
            assert!(html.contains(needle), "{needle:?} missing from the page Chromium rendered for {path}:\n{html}");
        }
    }
    // The row error names the row (3: the header is row 1) and why.
    let errors = document["errors"].as_array().expect("errors");
    assert_eq!(errors[0]["row"].as_i64(), Some(3), "{errors:?}");
    // A file no processor reads: the browser gets the form back (415) with the reason and the
    // vendor as typed, not a JSON body.
    let (content_type, body) = form(&[("file", Some("notes.bin"), b"\x00\x01\x02 no processor reads this"), ("vendor", None, b"Duka <Moja>")]);
    let refused = app
        .client
        .post(app.url("/documents"))
        .basic_auth("admin", Some("admin-secret"))
        .header("content-type", content_type)
        .header("accept", "text/html")
        .header("origin", app.address.clone())
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 415);
    assert!(refused.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("text/html")));
    let page = refused.text().await.expect("page");
    for needle in ["role=\"alert\"", "Not imported: unsupported file type", "value=\"Duka &lt;Moja&gt;\"", "Upload and import"] {
        assert!(page.contains(needle), "{needle:?} missing from the refusal page:\n{page}");
    }
    // Without the admin token the pages are closed.
    let anonymous = app.client.get(app.url("/admin/documents")).send().await.expect("sent");
    assert_eq!(anonymous.status(), 401);
    app.finish().await;
}
