//! The LLM providers against a local HTTP server on a real socket that speaks Gemini's
//! `generateContent` and OpenAI's `chat/completions`: it checks each request's path, key header
//! and inline image, and answers as those APIs do (answers, blocks, truncation, 429, 5xx, 4xx).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use super::{LlmCallError, LlmProvider};
use crate::pipeline::qc::llm::{LlmAnswerKind, QcImage};
use crate::pipeline::qc::{Decision, QcProviderKind};
use crate::pipeline::media::settings::LlmEndpoint;

/// A request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A canned answer: status, extra headers, body.
type Canned = (u16, Vec<(&'static str, String)>, String);

/// Serves `responses` in order (the last one repeats), recording every request.
async fn provider_server(responses: Vec<Canned>) -> (Url, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut index = 0usize;
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            let (head_end, length) = loop {
                let Ok(n) = stream.read(&mut chunk).await else { break (0, 0) };
                if n == 0 {
                    break (0, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let length = head
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                        .unwrap_or(0usize);
                    break (end + 4, length);
                }
            };
            while buf.len() < head_end + length {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf[..head_end.saturating_sub(4)]).to_string();
            let mut lines = head.lines();
            let request_line = lines.next().unwrap_or_default().to_owned();
            let headers = lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))).collect();
            let body = serde_json::from_slice(buf.get(head_end..).unwrap_or_default()).unwrap_or(Value::Null);
            log.lock().expect("log").push(Seen { request_line, headers, body });
            let (status, extra, text) = responses[index.min(responses.len() - 1)].clone();
            index += 1;
            let mut response = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n", text.len());
            for (name, value) in extra {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            response.push_str("\r\n");
            response.push_str(&text);
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    (Url::parse(&format!("http://{address}/")).expect("url"), seen)
}

fn provider(kind: QcProviderKind, base: Url, model: &str, key: Option<&str>) -> LlmProvider {
    let endpoint = LlmEndpoint { base_url: base, model: model.to_owned(), api_key: key.map(|k| SecretString::from(k.to_owned())) };
    LlmProvider::new(kind, endpoint, Duration::from_secs(5)).expect("client")
}

const IMAGE: QcImage<'static> = QcImage { mime_type: "image/png", bytes: b"\x89PNG\r\n\x1a\nimage bytes" };

fn gemini_answer(text: &str, finish: &str) -> String {
    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish}]}).to_string()
}

fn openai_answer(content: &str, finish: &str) -> String {
    json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}]}).to_string()
}

#[tokio::test]
async fn gemini_request_carries_key_schema_and_inline_image() {
    let answer = gemini_answer(r#"{"decision":"approved","confidence":0.91,"reason":"clear product photo"}"#, "STOP");
    let (base, seen) = provider_server(vec![(200, vec![], answer)]).await;
    let gemini = provider(QcProviderKind::Gemini, base, "gemini-2.5-flash", Some("g-key"));
    let result = gemini.review("Red dress", "Cotton, size M", IMAGE).await.expect("answered");
    assert_eq!((result.kind, result.decision.decision), (LlmAnswerKind::Answered, Decision::Approved));
    assert!((result.decision.confidence - 0.91).abs() < 1e-6);
    let seen = seen.lock().expect("log")[0].clone();
    assert_eq!(seen.request_line, "POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1");
    assert_eq!(seen.header("x-goog-api-key"), Some("g-key"));
    assert_eq!(seen.header("authorization"), None);
    let inline = base64::engine::general_purpose::STANDARD.encode(IMAGE.bytes);
    assert_eq!(seen.body.pointer("/contents/0/parts/1/inlineData/data"), Some(&json!(inline)));
    assert_eq!(seen.body.pointer("/generationConfig/responseMimeType"), Some(&json!("application/json")));
}

#[tokio::test]
async fn openai_compatible_request_carries_bearer_and_data_url() {
    let answer = openai_answer(r#"{"decision":"rejected","confidence":0.8,"reason":"screenshot of text"}"#, "stop");
    let (base, seen) = provider_server(vec![(200, vec![], answer)]).await;
    let base = base.join("v1").expect("join");
    let openai = provider(QcProviderKind::OpenAi, base, "gpt-4o-mini", Some("sk-test"));
    let result = openai.review("Phone", "", IMAGE).await.expect("answered");
    assert_eq!((result.kind, result.decision.decision), (LlmAnswerKind::Answered, Decision::Rejected));
    let seen = seen.lock().expect("log")[0].clone();
    assert_eq!(seen.request_line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(seen.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(seen.body["model"], json!("gpt-4o-mini"));
    let url = seen.body.pointer("/messages/1/content/1/image_url/url").and_then(Value::as_str).unwrap_or_default();
    assert!(url.starts_with("data:image/png;base64,"), "{url}");
}

#[tokio::test]
async fn blocked_truncated_and_malformed_answers_are_flagged() {
    let cases = [
        (QcProviderKind::Gemini, json!({"promptFeedback": {"blockReason": "SAFETY"}}).to_string(), LlmAnswerKind::Blocked),
        (QcProviderKind::Gemini, gemini_answer(r#"{"decision":"appr"#, "MAX_TOKENS"), LlmAnswerKind::Truncated),
        (QcProviderKind::Gemini, "<html>oops</html>".to_owned(), LlmAnswerKind::Malformed),
        (QcProviderKind::OpenAi, openai_answer("", "content_filter"), LlmAnswerKind::Blocked),
        (QcProviderKind::OpenAi, openai_answer(r#"{"decision":"#, "length"), LlmAnswerKind::Truncated),
        (QcProviderKind::OpenAi, openai_answer("Looks fine to me!", "stop"), LlmAnswerKind::Malformed),
    ];
    for (kind, body, expected) in cases {
        let (base, _) = provider_server(vec![(200, vec![], body.clone())]).await;
        let answer = provider(kind, base, "m", Some("k")).review("t", "d", IMAGE).await.expect("an answer");
        assert_eq!((answer.kind, answer.decision.decision), (expected, Decision::Flagged), "{kind:?} {body}");
        assert_eq!(answer.is_cacheable(), expected == LlmAnswerKind::Blocked);
    }
}

#[tokio::test]
async fn rate_limits_and_server_errors_go_back_to_the_queue() {
    let (base, _) = provider_server(vec![(429, vec![("retry-after", "7".to_owned())], "{}".to_owned())]).await;
    let error = provider(QcProviderKind::Gemini, base, "m", Some("k")).review("t", "d", IMAGE).await.expect_err("429");
    let LlmCallError::Retry { status, retry_after, .. } = error;
    assert_eq!((status, retry_after), (Some(429), Some(Duration::from_secs(7))));
    for status_code in [500u16, 503, 401] {
        let (base, _) = provider_server(vec![(status_code, vec![], "{}".to_owned())]).await;
        let error = provider(QcProviderKind::OpenAi, base, "m", None).review("t", "d", IMAGE).await.expect_err("retry");
        let LlmCallError::Retry { status, .. } = error;
        assert_eq!(status, Some(status_code));
    }
    // A request the provider refuses for its content will not get better: flagged, not retried.
    let (base, _) = provider_server(vec![(400, vec![], json!({"error": {"message": "bad image"}}).to_string())]).await;
    let answer = provider(QcProviderKind::OpenAi, base, "m", None).review("t", "d", IMAGE).await.expect("flagged");
    assert_eq!(answer.decision.decision, Decision::Flagged);
    assert!(!answer.is_cacheable());
}
