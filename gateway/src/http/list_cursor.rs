//! Opaque keyset cursors of the console's lists (chats, vendors, jobs,
//! events): the previous page's last sort key, tagged with its list's name
//! and base64url-encoded. A cursor from another list, or a made-up one, is
//! a 400.

use base64::Engine;

use super::errors::ApiError;

fn encode(tag: &str, parts: &[String]) -> String {
    let mut text = String::from(tag);
    for part in parts {
        text.push('\n');
        text.push_str(part);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode(tag: &str, cursor: &str, parts: usize) -> Result<Vec<String>, ApiError> {
    let bad = || ApiError::BadRequest("cursor is not one this API handed out".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut fields = text.splitn(parts + 1, '\n');
    if fields.next() != Some(tag) {
        return Err(bad());
    }
    let fields: Vec<String> = fields.map(str::to_owned).collect();
    if fields.len() == parts {
        Ok(fields)
    } else {
        Err(bad())
    }
}

fn int(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::BadRequest("cursor is not one this API handed out".into()))
}

/// Chats: (mapped 0/1, last message ms, chat id).
pub fn chat(mapped: i64, last_ms: i64, chat_id: &str) -> String {
    encode(
        "chat",
        &[mapped.to_string(), last_ms.to_string(), chat_id.to_owned()],
    )
}

pub fn parse_chat(cursor: &str) -> Result<(i64, i64, String), ApiError> {
    let f = decode("chat", cursor, 3)?;
    Ok((int(&f[0])?, int(&f[1])?, f[2].clone()))
}

/// Vendors: (id, name); the name goes last since it may hold anything.
pub fn vendor(name: &str, id: i64) -> String {
    encode("vendor", &[id.to_string(), name.to_owned()])
}

pub fn parse_vendor(cursor: &str) -> Result<(String, i64), ApiError> {
    let f = decode("vendor", cursor, 2)?;
    Ok((f[1].clone(), int(&f[0])?))
}

/// Jobs: (updated at ms, id).
pub fn job(updated_at_ms: i64, id: i64) -> String {
    encode("job", &[updated_at_ms.to_string(), id.to_string()])
}

pub fn parse_job(cursor: &str) -> Result<(i64, i64), ApiError> {
    let f = decode("job", cursor, 2)?;
    Ok((int(&f[0])?, int(&f[1])?))
}

/// Events: the id.
pub fn event(id: i64) -> String {
    encode("event", &[id.to_string()])
}

pub fn parse_event(cursor: &str) -> Result<i64, ApiError> {
    int(&decode("event", cursor, 1)?[0])
}

/// Documents: the id.
pub fn document(id: i64) -> String {
    encode("document", &[id.to_string()])
}

pub fn parse_document(cursor: &str) -> Result<i64, ApiError> {
    int(&decode("document", cursor, 1)?[0])
}

/// Query numbers that a filter form may send empty (`vendor_id=` for "any"): empty is absent.
pub fn empty_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw: Option<String> = serde::Deserialize::deserialize(deserializer)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_keep_their_list() {
        assert_eq!(
            parse_chat(&chat(1, 42, "a\nb@g.us")).ok(),
            Some((1, 42, "a\nb@g.us".into()))
        );
        assert_eq!(
            parse_vendor(&vendor("Mama\nMboga", 7)).ok(),
            Some(("Mama\nMboga".into(), 7))
        );
        assert_eq!(parse_job(&job(5, 6)).ok(), Some((5, 6)));
        assert_eq!(parse_event(&event(9)).ok(), Some(9));
        assert!(parse_job(&event(9)).is_err());
        assert!(parse_chat("!!").is_err());
        assert!(parse_event(&encode("event", &["x".into()])).is_err());
    }
}
