//! `POST /admin/purge`: removes test traffic, everything derived from the
//! batches of clients whose `client_id` starts with a prefix (the harness's
//! is `soko-load-`), in one transaction (`store::purge`). The same as
//! `gateway purge --client-prefix …`. Admin token, and the same-origin rule
//! of every admin POST. JSON or a form; `dry_run` only counts.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::{Deserialize, Serialize};

use super::{admin::wants_json, auth, errors::ApiError, openapi::AdminErrors};
use crate::{
    app::AppState,
    store::purge::{ClientPrefix, PurgeCounts},
};

/// What to purge.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PurgeRequest {
    /// Clients whose id starts with this (never empty), e.g. `soko-load-`.
    #[schema(example = "soko-load-")]
    pub client_prefix: String,
    /// Count only; remove nothing. Forms send `true`/`on`/`1`.
    #[serde(default, deserialize_with = "flag")]
    #[schema(value_type = bool)]
    pub dry_run: bool,
}

fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(value) => value,
        Flag::Text(text) => matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "true" | "on" | "1" | "yes"
        ),
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PurgeAnswer {
    pub client_prefix: String,
    pub dry_run: bool,
    /// Rows removed (for a dry run: that a purge would remove now).
    pub removed: PurgeCounts,
}

#[utoipa::path(
    post, path = "/admin/purge", tag = "admin", summary = "Remove test traffic: the data of clients whose id starts with a prefix",
    request_body(content((PurgeRequest = "application/json"), (PurgeRequest = "application/x-www-form-urlencoded"))),
    security(("admin_token" = []), ("admin_basic" = [])),
    responses(
        (status = 200, description = "Purged, or counted with `dry_run`", body = PurgeAnswer),
        (status = 303, description = "Purged (form posts): back to /admin/whatsapp"),
        AdminErrors,
    ),
)]
pub async fn purge(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth::require_same_origin(&request, &state)?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let asked: PurgeRequest = if content_type.starts_with("application/json") {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    } else if form {
        serde_urlencoded::from_bytes(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    } else {
        return Err(ApiError::UnsupportedMediaType);
    };
    let prefix = ClientPrefix::parse(&asked.client_prefix)?;
    let removed = state
        .store
        .purge_clients(prefix.clone(), asked.dry_run)
        .await?;
    tracing::info!(
        client_prefix = prefix.as_str(),
        dry_run = asked.dry_run,
        messages = removed.messages,
        chats = removed.chats,
        offers = removed.offers,
        "test traffic purged by an operator"
    );
    if form && !wants_json(&request) {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/admin/whatsapp"))
            .finish());
    }
    Ok(HttpResponse::Ok().json(PurgeAnswer {
        client_prefix: prefix.as_str().to_owned(),
        dry_run: asked.dry_run,
        removed,
    }))
}
