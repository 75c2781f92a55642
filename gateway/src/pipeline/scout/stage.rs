//! The scout stage: fetch a seller's catalog (`<base>/c/<phone>`), follow its pagination, and
//! hand the product ids it lists to the commit ([`super::commit`]), which compares them with the
//! catalog's listing before: new products get hydrate jobs, vanished ones become inactive. A
//! missing catalog (404/410) is a recorded outcome; 429 and 5xx go back to the queue, honouring
//! `Retry-After`. A page the fence refuses kills the job (`blocked_address`). A catalog that lists
//! no products is "no information" (`scout_error`, reason `no_products`): nothing is delisted,
//! and the re-sync sweep looks again after `CATALOG_RESYNC_HOURS`.

use std::{collections::HashSet, sync::Arc, time::SystemTime};

use serde_json::json;
use url::Url;

use super::{
    catalog_url,
    commit::{ScoutCommit, ScoutFailure, scout_event},
    scan_catalog_page,
};
use crate::domain::job::stage;
use crate::{
    jobs::{ClaimedJob, Stage, StageOutcome},
    pipeline::{
        fence::blocked_outcome,
        fetch::{FetchError, Fetcher},
        hydrate::{HydrateStatusClass, classify_status, decode_html, parse_retry_after},
    },
    store::{
        Database,
        sync_log::{self, event},
    },
};

/// Pages followed per catalog; a pagination loop or a giant catalog stops here.
pub const MAX_CATALOG_PAGES: usize = 100;

/// The job's note and the `scout_error` message of a catalog that listed nothing.
pub const NO_PRODUCTS: &str = "catalog listed no products; nothing delisted";

pub struct ScoutStage {
    pub db: Database,
    pub fetcher: Arc<Fetcher>,
    pub base_url: Url,
    pub concurrency: usize,
}

#[async_trait::async_trait]
impl Stage for ScoutStage {
    fn name(&self) -> &'static str {
        stage::SCOUT
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    async fn run(&self, job: &ClaimedJob) -> StageOutcome {
        let started_ms = crate::time::now_ms();
        let Some(phone) = job.payload_str("phone").or_else(|| job.payload_str("seller_phone")).map(str::to_owned) else {
            return StageOutcome::Terminal { error: "payload has no phone".into(), status: None, commit: None, dead: true };
        };
        let Ok(first) = catalog_url(&self.base_url, &phone) else {
            let error = "seller phone is not a valid catalog phone".to_owned();
            let commit = Box::new(ScoutFailure { phone, started_ms, error: error.clone(), status: None, reason: None });
            return StageOutcome::Terminal { error, status: None, commit: Some(commit), dead: true };
        };
        let mut ids: Vec<String> = Vec::new();
        let mut seen_ids: HashSet<String> = HashSet::new();
        let mut visited: HashSet<Url> = HashSet::new();
        let mut next = Some(first);
        // False when the page limit stops the walk: the listing is then partial.
        let mut whole = true;
        while let Some(url) = next.take() {
            if visited.len() >= MAX_CATALOG_PAGES {
                whole = false;
                break;
            }
            if !visited.insert(url.clone()) {
                break;
            }
            let fetched = match self.fetcher.get(&url).await {
                Ok(fetched) => fetched,
                Err(FetchError::Blocked(refusal)) => {
                    return blocked_outcome(self.fetcher.fence(), stage::SCOUT, refusal, Some(phone.as_str()), None);
                }
                Err(error) if error.is_transient() => return self.retry(&phone, started_ms, error.to_string(), None, None).await,
                Err(error) => {
                    let error = error.to_string();
                    let commit = Box::new(ScoutFailure { phone, started_ms, error: error.clone(), status: None, reason: None });
                    return StageOutcome::Terminal { error, status: None, commit: Some(commit), dead: true };
                }
            };
            let status = fetched.status;
            match classify_status(status) {
                HydrateStatusClass::Ok => {}
                HydrateStatusClass::RateLimited | HydrateStatusClass::Retryable => {
                    let wait = fetched.retry_after.as_deref().and_then(|v| parse_retry_after(v, SystemTime::now()).ok());
                    return self.retry(&phone, started_ms, format!("catalog page answered {status}"), Some(status), wait).await;
                }
                class => {
                    let error = format!("catalog page answered {status}");
                    let commit = Box::new(ScoutFailure { phone, started_ms, error: error.clone(), status: Some(status), reason: None });
                    let dead = class != HydrateStatusClass::Gone;
                    return StageOutcome::Terminal { error, status: Some(status), commit: Some(commit), dead };
                }
            }
            let (html, _) = decode_html(&fetched.body, fetched.content_type.as_deref());
            let page = scan_catalog_page(&html, &fetched.url);
            for id in page.product_ids {
                if seen_ids.insert(id.clone()) {
                    ids.push(id);
                }
            }
            next = page.next_page;
        }
        if ids.is_empty() {
            // A blank page, a login wall or markup the scanner no longer reads: never "all gone".
            tracing::info!(pages = visited.len(), "a catalog listed no products; nothing is delisted");
            let error = NO_PRODUCTS.to_owned();
            let commit = Box::new(ScoutFailure { phone, started_ms, error: error.clone(), status: Some(200), reason: Some("no_products") });
            return StageOutcome::Terminal { error, status: Some(200), commit: Some(commit), dead: false };
        }
        StageOutcome::Done(Box::new(ScoutCommit { phone, started_ms, ids, pages: visited.len(), whole }))
    }
}

impl ScoutStage {
    async fn retry(&self, phone: &str, started_ms: i64, error: String, status: Option<u16>, wait: Option<std::time::Duration>) -> StageOutcome {
        let logged = async {
            let mut tx = self.db.begin_write().await?;
            sync_log::append(&mut tx, started_ms, &scout_event(phone, event::SCOUT_START, None, None, json!({}))).await?;
            let details = json!({"retry_after_s": wait.map(|w| w.as_secs_f64())});
            sync_log::append(&mut tx, crate::time::now_ms(), &scout_event(phone, event::SCOUT_ERROR, status, Some(&error), details)).await?;
            tx.commit().await
        };
        if let Err(e) = logged.await {
            tracing::warn!(error = %e, "could not log a scout retry");
        }
        StageOutcome::Retry { error, status, retry_after: wait }
    }
}
