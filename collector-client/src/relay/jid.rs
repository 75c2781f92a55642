//! WhatsApp ids (JIDs) as bridges send them: `254712345678@c.us` (WAHA),
//! `254712345678@s.whatsapp.net` (Baileys/Evolution), `…@g.us` for groups,
//! `…@lid` for hidden ids that are not phone numbers.

use chrono::{DateTime, SecondsFormat};
use serde_json::Value;
use std::collections::HashMap;

/// The phone in a user JID, as `+<digits>`; `None` for groups, LIDs and
/// anything else that is not a phone.
pub fn phone_of(jid: &str) -> Option<String> {
    let (user, server) = jid.split_once('@')?;
    if server != "c.us" && server != "s.whatsapp.net" {
        return None;
    }
    // Multi-device JIDs carry `:device` after the number.
    let number = user.split([':', '.']).next()?;
    let valid = (7..=15).contains(&number.len()) && number.chars().all(|c| c.is_ascii_digit());
    valid.then(|| format!("+{number}"))
}

pub fn is_status_broadcast(jid: &str) -> bool {
    jid == "status@broadcast"
}

/// Unix seconds (integer, float, numeric string, or protobuf Long
/// `{low, high}`) → RFC 3339 UTC.
pub fn unix_to_rfc3339(value: &Value) -> Option<String> {
    let seconds = match value {
        Value::Number(number) => number.as_i64().or_else(|| number.as_f64().map(|f| f as i64))?,
        Value::String(text) => text.trim().parse::<f64>().ok().map(|f| f as i64)?,
        Value::Object(long) => {
            let low = long.get("low")?.as_i64()? & 0xFFFF_FFFF;
            let high = long.get("high").and_then(Value::as_i64).unwrap_or(0);
            (high << 32) | low
        }
        _ => return None,
    };
    // Milliseconds slipped in by some bridges are brought back to seconds.
    let seconds = if seconds > 100_000_000_000 { seconds / 1000 } else { seconds };
    DateTime::from_timestamp(seconds, 0).map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Chat titles by JID, from `--chat-titles FILE` (a JSON object). Bridges
/// send no group names with messages, so unknown chats are titled by JID.
#[derive(Debug, Clone, Default)]
pub struct ChatTitles(HashMap<String, String>);

impl ChatTitles {
    pub fn new(titles: HashMap<String, String>) -> Self {
        Self(titles)
    }

    pub fn title_for(&self, jid: &str) -> String {
        if let Some(title) = self.0.get(jid) {
            return title.clone();
        }
        // Accept either server spelling for the same user.
        let alternative = jid.strip_suffix("@s.whatsapp.net").map(|user| format!("{user}@c.us")).or_else(|| jid.strip_suffix("@c.us").map(|user| format!("{user}@s.whatsapp.net")));
        alternative.and_then(|alternative| self.0.get(&alternative).cloned()).unwrap_or_else(|| jid.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phones_come_only_from_user_jids() {
        assert_eq!(phone_of("254712345678@c.us").as_deref(), Some("+254712345678"));
        assert_eq!(phone_of("254712345678:12@s.whatsapp.net").as_deref(), Some("+254712345678"));
        assert_eq!(phone_of("120363021234567890@g.us"), None);
        assert_eq!(phone_of("123456789012345@lid"), None);
        assert_eq!(phone_of("status@broadcast"), None);
        assert_eq!(phone_of("no-at-sign"), None);
    }

    #[test]
    fn timestamps_in_every_shape_bridges_use() {
        let expected = Some("2024-06-01T09:30:00Z".to_owned());
        assert_eq!(unix_to_rfc3339(&json!(1_717_234_200)), expected);
        assert_eq!(unix_to_rfc3339(&json!(1_717_234_200.853)), expected);
        assert_eq!(unix_to_rfc3339(&json!("1717234200")), expected);
        assert_eq!(unix_to_rfc3339(&json!({"low": 1_717_234_200, "high": 0, "unsigned": true})), expected);
        assert_eq!(unix_to_rfc3339(&json!(1_717_234_200_000_i64)), expected);
        assert_eq!(unix_to_rfc3339(&json!(null)), None);
    }

    #[test]
    fn titles_fall_back_to_the_jid() {
        let titles = ChatTitles::new(HashMap::from([("120363021234567890@g.us".to_owned(), "Nairobi Phones".to_owned()), ("254700000001@c.us".to_owned(), "Mama Njeri".to_owned())]));
        assert_eq!(titles.title_for("120363021234567890@g.us"), "Nairobi Phones");
        assert_eq!(titles.title_for("254700000001@s.whatsapp.net"), "Mama Njeri");
        assert_eq!(titles.title_for("999@g.us"), "999@g.us");
    }
}
