//! Media as the bridges describe it, turned into the gateway's media item
//! (`kind` from the MIME type, `mime_type`, `sha256` in lowercase hex,
//! `caption`). No URL is relayed: WAHA's file URLs need WAHA's API key and
//! Evolution's are WhatsApp's encrypted `.enc` blobs, so neither is
//! something the gateway could fetch.
//!
//! Bridges write the file's SHA-256 as base64 (WhatsApp's `fileSha256`,
//! whatsapp-web.js `filehash`), and Evolution sometimes as a serialised
//! Node `Buffer` (`{"type":"Buffer","data":[…]}`) or a byte object
//! (`{"0":12,"1":…}`); every form that holds 32 bytes becomes hex.

use crate::message::IngestMedia;
use base64::Engine;
use serde_json::Value;

/// The media item for a captioned message.
pub fn describe(mime_type: Option<&str>, sha256: Option<&Value>, caption: &str) -> IngestMedia {
    IngestMedia { url: None, mime_type: mime_type.map(str::trim).filter(|mime| !mime.is_empty()).map(str::to_owned), sha256: sha256.and_then(sha256_hex), caption: Some(caption.to_owned()) }
}

/// A 32-byte digest in any of the forms bridges send, as lowercase hex.
pub fn sha256_hex(value: &Value) -> Option<String> {
    let bytes = match value {
        Value::String(text) => {
            let text = text.trim();
            if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
                return Some(text.to_ascii_lowercase());
            }
            let engines = [
                &base64::engine::general_purpose::STANDARD,
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ];
            engines.iter().find_map(|engine| engine.decode(text).ok())?
        }
        Value::Array(items) => bytes_of(items.iter())?,
        Value::Object(object) => match object.get("data").and_then(Value::as_array) {
            Some(items) => bytes_of(items.iter())?,
            None => {
                let mut indexed: Vec<(usize, &Value)> = object.iter().filter_map(|(key, value)| key.parse::<usize>().ok().map(|index| (index, value))).collect();
                indexed.sort_by_key(|(index, _)| *index);
                if indexed.iter().enumerate().any(|(position, (index, _))| position != *index) {
                    return None;
                }
                bytes_of(indexed.into_iter().map(|(_, value)| value))?
            }
        },
        _ => return None,
    };
    (bytes.len() == 32).then(|| hex::encode(bytes))
}

fn bytes_of<'a>(items: impl Iterator<Item = &'a Value>) -> Option<Vec<u8>> {
    items.map(|item| item.as_u64().and_then(|byte| u8::try_from(byte).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HEX: &str = "e22e0feb1c9f55f4dba7861ad95e2cb9f796ee5397082c16a16a166a6a9a59cc";

    #[test]
    fn every_digest_form_becomes_the_same_hex() {
        let raw = hex::decode(HEX).expect("hex");
        let base64 = base64::engine::general_purpose::STANDARD.encode(&raw);
        let forms = [
            json!(base64),
            json!(base64.trim_end_matches('=')),
            json!(HEX.to_uppercase()),
            json!({"type": "Buffer", "data": raw}),
            Value::Object(raw.iter().enumerate().map(|(i, b)| (i.to_string(), json!(b))).collect()),
            json!(raw),
        ];
        for form in forms {
            assert_eq!(sha256_hex(&form).as_deref(), Some(HEX), "{form}");
        }
    }

    #[test]
    fn anything_that_is_not_32_bytes_is_dropped() {
        for form in [json!("AB12"), json!(""), json!(null), json!(7), json!([1, 2, 300]), json!({"1": 1}), json!("not base64 at all!")] {
            assert_eq!(sha256_hex(&form), None, "{form}");
        }
    }

    #[test]
    fn a_captioned_photo_is_described_without_a_url() {
        let media = describe(Some("image/jpeg"), None, "Oppo Reno 11 - 45k");
        assert_eq!(serde_json::to_value(&media).expect("json"), json!({"kind": "image", "mime_type": "image/jpeg", "caption": "Oppo Reno 11 - 45k"}));
    }
}
