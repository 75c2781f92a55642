//! A product-page server for the queue scale-out tests (`scaleout_jobs.rs`): it answers ANY
//! `/p/<16 digits>/<phone>` with valid og tags whose image is `/img/<id>.jpg` (404, so quality
//! control rejects the product and the chain ends), and keeps, per product and per kind of
//! request, how many fetches arrived, when, and the most that were in flight at once. A
//! product's first page fetch can be held open until the test releases it.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, web};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

/// How long a held fetch waits at most when the test never releases it.
const HOLD_AT_MOST: Duration = Duration::from_secs(60);

/// One product's fetches of one kind (`page` or `image`).
#[derive(Debug, Default, Clone)]
pub struct Fetches {
    pub count: usize,
    pub in_flight: usize,
    pub max_in_flight: usize,
    /// Wall-clock start of each fetch, in the gateway's own clock (`gateway::time::now_ms`).
    pub started_ms: Vec<i64>,
}

#[derive(Default)]
pub struct PageLog {
    fetches: Mutex<HashMap<(&'static str, String), Fetches>>,
    held: Mutex<HashSet<String>>,
    release: CancellationToken,
}

impl PageLog {
    pub fn page(&self, id: &str) -> Fetches {
        self.get("page", id)
    }

    pub fn image(&self, id: &str) -> Fetches {
        self.get("image", id)
    }

    fn get(&self, kind: &'static str, id: &str) -> Fetches {
        self.fetches.lock().get(&(kind, id.to_owned())).cloned().unwrap_or_default()
    }

    /// Every product's page fetches.
    pub fn pages(&self) -> HashMap<String, Fetches> {
        self.fetches.lock().iter().filter(|((kind, _), _)| *kind == "page").map(|((_, id), f)| (id.clone(), f.clone())).collect()
    }

    /// The first page fetch of `id` hangs until [`Self::release_held`].
    pub fn hold_first_fetch(&self, id: &str) {
        self.held.lock().insert(id.to_owned());
    }

    pub fn release_held(&self) {
        self.release.cancel();
    }

    /// Counts a fetch in; true when it is the first page fetch of a held product.
    fn enter(&self, kind: &'static str, id: &str) -> bool {
        let mut all = self.fetches.lock();
        let entry = all.entry((kind, id.to_owned())).or_default();
        entry.count += 1;
        entry.in_flight += 1;
        entry.max_in_flight = entry.max_in_flight.max(entry.in_flight);
        entry.started_ms.push(gateway::time::now_ms());
        kind == "page" && entry.count == 1 && self.held.lock().contains(id)
    }

    fn leave(&self, kind: &'static str, id: &str) {
        if let Some(entry) = self.fetches.lock().get_mut(&(kind, id.to_owned())) {
            entry.in_flight -= 1;
        }
    }
}

/// Leaves the in-flight count when the answer is done, or when actix drops the handler.
struct InFlight<'a> {
    log: &'a PageLog,
    kind: &'static str,
    id: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.log.leave(self.kind, &self.id);
    }
}

pub struct PageServer {
    pub base: String,
    pub log: Arc<PageLog>,
    handle: actix_web::dev::ServerHandle,
}

impl PageServer {
    pub async fn start() -> PageServer {
        let log = Arc::new(PageLog::default());
        let data = web::Data::from(log.clone());
        let routes = move |app: &mut web::ServiceConfig| {
            app.app_data(data.clone())
                .route("/p/{id}/{phone}", web::get().to(page))
                .route("/img/{file}", web::get().to(image));
        };
        let (base, handle) = crate::helpers::serve_on_loopback(routes, 2);
        PageServer { base, log, handle }
    }

    pub async fn stop(self) {
        self.log.release_held();
        self.handle.stop(false).await;
    }
}

async fn page(request: HttpRequest, path: web::Path<(String, String)>, log: web::Data<PageLog>) -> HttpResponse {
    let (id, _phone) = path.into_inner();
    let held = log.enter("page", &id);
    let _in_flight = InFlight { log: &log, kind: "page", id: id.clone() };
    if held {
        tokio::select! {
            () = log.release.cancelled() => {}
            () = tokio::time::sleep(HOLD_AT_MOST) => {}
        }
    }
    let host = request.connection_info().host().to_owned();
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>WhatsApp</title>
<meta property="og:title" content="Scale product {id}"><meta property="og:description" content="Made to be fetched once">
<meta property="og:image" content="http://{host}/img/{id}.jpg"></head><body></body></html>"#
    ))
}

async fn image(path: web::Path<String>, log: web::Data<PageLog>) -> HttpResponse {
    let id = path.into_inner().trim_end_matches(".jpg").to_owned();
    log.enter("image", &id);
    let _in_flight = InFlight { log: &log, kind: "image", id };
    HttpResponse::NotFound().body("no image")
}
