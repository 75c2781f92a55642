//! Reading the ingest request body under a size cap. The cap is enforced
//! while the bytes arrive, chunk by chunk, so a chunked upload without a
//! `Content-Length` is cut off as soon as it passes the limit, and a declared
//! length over the limit is refused before anything is read.

use std::time::Duration;

use actix_web::{HttpRequest, http::header, web};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use crate::ingest::IngestError;

/// A client that trickles its body this long is cut off (slow-body attacks
/// would otherwise hold a connection and a worker slot indefinitely).
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn read_capped(request: &HttpRequest, payload: web::Payload, cap: usize) -> Result<Bytes, IngestError> {
    tokio::time::timeout(BODY_READ_TIMEOUT, read_body(request, payload, cap))
        .await
        .map_err(|_| IngestError::BodyTimeout)?
}

async fn read_body(request: &HttpRequest, mut payload: web::Payload, cap: usize) -> Result<Bytes, IngestError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > cap) {
        return Err(IngestError::TooLarge(cap));
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(8 * 1024).min(cap));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| IngestError::BodyRead(e.to_string()))?;
        if body.len() + chunk.len() > cap {
            return Err(IngestError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
