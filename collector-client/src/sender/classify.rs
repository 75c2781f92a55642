//! What a gateway answer means for the batch it answered, and how much of
//! the answer is read to decide (at most [`BODY_LIMIT`], however much the
//! server sends).
//!
//! | answer | outcome | the batch |
//! |---|---|---|
//! | 2xx | `Delivered` | removed from the spool |
//! | 400, 413, 422 | `Rejected`: the batch itself is malformed | moved to `rejected/` |
//! | 401, 403 | `AuthRefused`: our credentials, signature clock or address | kept; delivery pauses 1 s … 300 s |
//! | 429 | `Retryable`, with its `Retry-After` | kept, retried |
//! | anything else (3xx, 408, other 4xx such as 404, 5xx, no answer) | `Retryable` | kept, retried |
//!
//! A 403 counts as a credential refusal whatever its code: the gateway
//! answers 403 only for `invalid_signature`, `signature_timestamp_stale`,
//! `signature_timestamp_future`, `signature_timestamp_invalid` and
//! `ip_not_allowed`, and a 403 from a proxy in front of it says nothing
//! about the batch either. Other 4xx (404 from a wrong URL, 405, 415 …) are
//! about where or how we send, which a fixed configuration cures, so they
//! keep the batch too instead of throwing it away.

use crate::metrics::AttemptLabel;
use reqwest::StatusCode;
use std::time::Duration;

/// At most this much of any answer's body is read.
pub const BODY_LIMIT: usize = 64 * 1024;
/// At most this much of a refusal's body is kept as the reason.
const REASON_LIMIT: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx, with what the gateway said of each message.
    Delivered { status: u16, answer: GatewayAnswer },
    /// Worth trying again soon: 408, 429, 5xx, 3xx, other 4xx, or no answer.
    Retryable { status: Option<u16>, retry_after: Option<Duration>, reason: String },
    /// The gateway refused our credentials: the batch waits, delivery pauses.
    AuthRefused(AuthRefusal),
    /// The gateway found the batch malformed (400, 413, 422): refused for good.
    Rejected { status: u16, reason: String },
}

impl AttemptOutcome {
    pub fn label(&self) -> AttemptLabel {
        match self {
            AttemptOutcome::Delivered { .. } => AttemptLabel::Success,
            AttemptOutcome::Retryable { status: Some(429), .. } => AttemptLabel::RateLimited,
            AttemptOutcome::Retryable { status: Some(status), .. } if (400..500).contains(status) && *status != 408 => AttemptLabel::ClientError,
            AttemptOutcome::Retryable { status: Some(_), .. } => AttemptLabel::ServerError,
            AttemptOutcome::Retryable { status: None, .. } => AttemptLabel::NetworkError,
            AttemptOutcome::AuthRefused(_) => AttemptLabel::AuthRefused,
            AttemptOutcome::Rejected { .. } => AttemptLabel::Rejected,
        }
    }
}

/// The gateway's 2xx answer, as far as it concerns the collector:
/// `{"created","deduped","refused","messages":[{"index","status","reason"}]}`.
/// An answer without these (another server, or a body that broke off)
/// leaves `duplicate` unknown: every message it did not refuse counts as
/// created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayAnswer {
    /// The gateway's `deduped` count.
    pub duplicate: Option<usize>,
    /// Messages refused one by one: (index in the batch, reason code).
    pub refused: Vec<(usize, String)>,
}

impl GatewayAnswer {
    pub fn parse(body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(default)]
            deduped: Option<usize>,
            #[serde(default)]
            messages: Vec<Status>,
        }
        #[derive(serde::Deserialize)]
        struct Status {
            index: usize,
            status: String,
            #[serde(default)]
            reason: Option<String>,
        }
        let Ok(answer) = serde_json::from_slice::<Answer>(body) else {
            return Self::default();
        };
        let refused = answer
            .messages
            .into_iter()
            .filter(|message| message.status == "refused")
            .map(|message| {
                // A reason code only: anything else could echo message text.
                let reason = message.reason.filter(|code| (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
                (message.index, reason.unwrap_or_else(|| "refused".to_owned()))
            })
            .collect();
        Self { duplicate: answer.deduped, refused }
    }

    /// (created, duplicate, refused) for a batch of `messages`.
    pub fn split(&self, messages: usize) -> (usize, usize, usize) {
        let refused = self.refused.len().min(messages);
        let duplicate = self.duplicate.unwrap_or(0).min(messages - refused);
        (messages - refused - duplicate, duplicate, refused)
    }
}

/// A 401 or 403: which status and which gateway error code, never the
/// answer's text, so the reason is safe to show on `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRefusal {
    pub status: u16,
    /// `error.code` of the gateway's JSON answer, when it had a plain one.
    pub code: Option<String>,
}

impl AuthRefusal {
    /// E.g. `gateway refused the credentials: invalid_signature (HTTP 403)`.
    pub fn reason(&self) -> String {
        format!("gateway refused the credentials: {} (HTTP {})", self.code.as_deref().unwrap_or("no error code"), self.status)
    }

    /// Which setting to check, by name (never by value).
    pub fn hint(&self) -> &'static str {
        match (self.status, self.code.as_deref()) {
            (401, _) => "check WHATSAPP_INGEST_TOKEN against the gateway's token list",
            (_, Some("ip_not_allowed")) => "check the gateway's WHATSAPP_INGEST_ALLOWED_IPS (and WHATSAPP_TRUSTED_PROXIES) for this host",
            (_, Some(code)) if code.starts_with("signature_timestamp") => "check this host's clock (run NTP) against the gateway's WHATSAPP_INGEST_SIGNATURE_TTL_SECONDS",
            (_, Some("invalid_signature")) => "check WHATSAPP_INGEST_HMAC_SECRET against the gateway's secret list",
            (_, Some(code)) if code.starts_with("webhook_timestamp") => "check this host's clock (run NTP) against the gateway's WHATSAPP_INGEST_SIGNATURE_TTL_SECONDS",
            (_, Some("invalid_webhook_signature")) => "check WHATSAPP_INGEST_WEBHOOK_SECRET against the gateway's WHATSAPP_INGEST_WEBHOOK_SECRETS",
            _ => "check the token, the HMAC secret, this host's clock and any proxy in front of the gateway",
        }
    }
}

/// Classifies an answer from its status, `Retry-After` and (capped) body.
pub fn classify(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> AttemptOutcome {
    let code = status.as_u16();
    match code {
        _ if status.is_success() => AttemptOutcome::Delivered { status: code, answer: GatewayAnswer::parse(body) },
        401 | 403 => AttemptOutcome::AuthRefused(AuthRefusal { status: code, code: error_code(body) }),
        400 | 413 | 422 => AttemptOutcome::Rejected { status: code, reason: reason_text(body) },
        429 => AttemptOutcome::Retryable { status: Some(code), retry_after, reason: reason_text(body) },
        _ => AttemptOutcome::Retryable { status: Some(code), retry_after: None, reason: reason_text(body) },
    }
}

/// Reads at most `limit` bytes of the body and drops the rest unread (the
/// connection is then closed rather than reused). A body that breaks off
/// is kept as far as it came.
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

/// The gateway's `{"error":{"code":…}}`, when the code is a short plain
/// identifier (anything else could be text we must not echo).
fn error_code(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Detail,
    }
    #[derive(serde::Deserialize)]
    struct Detail {
        code: String,
    }
    let code = serde_json::from_slice::<Envelope>(body).ok()?.error.code;
    let plain = (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    plain.then_some(code)
}

fn reason_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(REASON_LIMIT)]);
    let mut end = text.len().min(REASON_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateways_answer_splits_created_duplicate_and_refused() {
        let body = br#"{"request_id":"r","accepted":3,"created":2,"deduped":1,"refused":1,
            "messages":[{"index":0,"status":"created","id":1},{"index":1,"status":"refused","id":null,"reason":"empty_message"},
                        {"index":2,"status":"duplicate","id":7},{"index":3,"status":"created","id":9}]}"#;
        let answer = GatewayAnswer::parse(body);
        assert_eq!(answer, GatewayAnswer { duplicate: Some(1), refused: vec![(1, "empty_message".to_owned())] });
        assert_eq!(answer.split(4), (2, 1, 1));
        assert_eq!(GatewayAnswer::parse(br#"{"accepted":2}"#).split(2), (2, 0, 0), "no counts: all created");
        assert_eq!(GatewayAnswer::parse(b"not json").split(5), (5, 0, 0));
        let odd = GatewayAnswer::parse(br#"{"messages":[{"index":0,"status":"refused","reason":"Pixel 8 Pro - $750"}]}"#);
        assert_eq!(odd.refused, [(0, "refused".to_owned())], "a reason that is not a code is not kept");
    }

    fn kind(code: u16, body: &str) -> &'static str {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT);
        match classify(status, None, body.as_bytes()) {
            AttemptOutcome::Delivered { .. } => "delivered",
            AttemptOutcome::Retryable { .. } => "retry",
            AttemptOutcome::AuthRefused(_) => "auth",
            AttemptOutcome::Rejected { .. } => "reject",
        }
    }

    fn gateway_error(code: &str) -> String {
        format!(r#"{{"error":{{"code":"{code}","message":"m","request_id":"r"}}}}"#)
    }

    #[test]
    fn statuses_are_classified_as_issue_13_asks() {
        let table = [
            (200, "delivered"),
            (202, "delivered"),
            (301, "retry"),
            (400, "reject"),
            (401, "auth"),
            (403, "auth"),
            (404, "retry"),
            (405, "retry"),
            (408, "retry"),
            (413, "reject"),
            (415, "retry"),
            (422, "reject"),
            (429, "retry"),
            (500, "retry"),
            (502, "retry"),
            (503, "retry"),
        ];
        for (code, expected) in table {
            assert_eq!(kind(code, ""), expected, "{code}");
        }
        for code in ["invalid_signature", "signature_timestamp_stale", "signature_timestamp_future", "signature_timestamp_invalid", "ip_not_allowed", "cross_site_request"] {
            assert_eq!(kind(403, &gateway_error(code)), "auth", "{code}");
        }
        assert_eq!(kind(401, &gateway_error("invalid_ingest_token")), "auth");
    }

    #[test]
    fn only_429_keeps_its_retry_after() {
        let wait = Some(Duration::from_secs(9));
        let rate_limited = classify(StatusCode::TOO_MANY_REQUESTS, wait, b"");
        assert!(matches!(rate_limited, AttemptOutcome::Retryable { retry_after: Some(_), .. }));
        assert_eq!(rate_limited.label(), AttemptLabel::RateLimited);
        let unavailable = classify(StatusCode::SERVICE_UNAVAILABLE, wait, b"");
        assert!(matches!(unavailable, AttemptOutcome::Retryable { retry_after: None, .. }));
        assert_eq!(unavailable.label(), AttemptLabel::ServerError);
        assert_eq!(classify(StatusCode::NOT_FOUND, None, b"").label(), AttemptLabel::ClientError);
    }

    #[test]
    fn an_auth_refusal_names_the_gateway_code_and_never_the_answer_text() {
        let stale = classify(StatusCode::FORBIDDEN, None, gateway_error("signature_timestamp_stale").as_bytes());
        let AttemptOutcome::AuthRefused(refusal) = stale else { panic!("auth refusal expected: {stale:?}") };
        assert_eq!(refusal.reason(), "gateway refused the credentials: signature_timestamp_stale (HTTP 403)");
        assert_eq!(AttemptOutcome::AuthRefused(refusal.clone()).label(), AttemptLabel::AuthRefused);
        assert!(refusal.hint().contains("clock"));
        // A code that is really text, or an HTML page from a proxy, is not echoed.
        for body in [gateway_error("Bearer abc.def secret"), "<html>403 Forbidden by proxy</html>".to_owned(), gateway_error(&"a".repeat(65))] {
            let outcome = classify(StatusCode::FORBIDDEN, None, body.as_bytes());
            assert_eq!(outcome, AttemptOutcome::AuthRefused(AuthRefusal { status: 403, code: None }), "{body}");
        }
        let no_code = AuthRefusal { status: 401, code: None };
        assert_eq!(no_code.reason(), "gateway refused the credentials: no error code (HTTP 401)");
        assert!(no_code.hint().contains("WHATSAPP_INGEST_TOKEN"));
    }

    #[test]
    fn a_rejection_keeps_at_most_2_kib_of_the_answer_on_a_char_boundary() {
        let body = "é".repeat(5000);
        let AttemptOutcome::Rejected { reason, .. } = classify(StatusCode::UNPROCESSABLE_ENTITY, None, body.as_bytes()) else { panic!("rejected expected") };
        assert!(reason.len() <= REASON_LIMIT && reason.len() >= REASON_LIMIT - 4, "{}", reason.len());
        assert!(reason.chars().all(|c| c == 'é' || c == '\u{FFFD}'));
    }
}
