//! Who an offer belongs to. A chat has a default vendor; a sender of the chat
//! may have a vendor of their own (store/sender_vendors.rs), and that one
//! wins. The vendor also decides the default currency of the sender's
//! unmarked prices. [`Scope`] says which already-extracted messages a
//! re-extraction after a mapping change touches: only the affected ones.

use std::collections::HashMap;

use crate::store::sender_vendors::SenderVendor;

/// The vendor and default currency for each sender of one chat.
#[derive(Debug, Clone)]
pub struct Attribution {
    chat_vendor: Option<i64>,
    chat_currency: String,
    senders: HashMap<String, (i64, String)>,
}

impl Attribution {
    /// Every sender gets the chat's vendor and currency.
    pub fn chat_only(chat_vendor: Option<i64>, chat_currency: String) -> Self {
        Self { chat_vendor, chat_currency, senders: HashMap::new() }
    }

    /// Adds the senders with a vendor of their own; a vendor without a default
    /// currency uses `fallback_currency` (the gateway's default).
    pub fn with_senders(mut self, senders: Vec<SenderVendor>, fallback_currency: &str) -> Self {
        for sender in senders {
            let currency = sender.default_currency.filter(|c| !c.is_empty()).unwrap_or_else(|| fallback_currency.to_owned());
            self.senders.insert(sender.sender, (sender.vendor_id, currency));
        }
        self
    }

    /// The vendor and default currency of a message from `sender`.
    pub fn resolve(&self, sender: Option<&str>) -> (Option<i64>, &str) {
        match sender.and_then(|s| self.senders.get(s)) {
            Some((vendor, currency)) => (Some(*vendor), currency.as_str()),
            None => (self.chat_vendor, self.chat_currency.as_str()),
        }
    }

    fn has_own_vendor(&self, sender: Option<&str>) -> bool {
        sender.is_some_and(|s| self.senders.contains_key(s))
    }
}

/// The sender an offer records: E.164 only (`+…`); other ids are not phones.
pub fn phone_sender(sender: Option<String>) -> Option<String> {
    sender.filter(|s| s.starts_with('+'))
}

/// Which already-extracted messages a run extracts again. Messages never
/// extracted before are always extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every message (`extract-latest?full=true`).
    All,
    /// Messages of senders without a vendor of their own (the chat's mapping changed).
    ChatDefault,
    /// Messages of these senders (their mappings changed).
    Senders(Vec<String>),
}

impl Scope {
    pub fn covers(&self, sender: Option<&str>, attribution: &Attribution) -> bool {
        match self {
            Self::All => true,
            Self::ChatDefault => !attribution.has_own_vendor(sender),
            Self::Senders(senders) => sender.is_some_and(|s| senders.iter().any(|x| x == s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribution() -> Attribution {
        let own = SenderVendor { sender: "+254700000002".into(), vendor_id: 7, default_currency: Some("UGX".into()) };
        Attribution::chat_only(Some(1), "KES".into()).with_senders(vec![own], "KES")
    }

    #[test]
    fn a_senders_own_vendor_wins_over_the_chats() {
        let attribution = attribution();
        assert_eq!(attribution.resolve(Some("+254700000002")), (Some(7), "UGX"));
        assert_eq!(attribution.resolve(Some("+254700000001")), (Some(1), "KES"));
        assert_eq!(attribution.resolve(None), (Some(1), "KES"));
    }

    #[test]
    fn scopes_cover_only_the_affected_senders() {
        let attribution = attribution();
        let (mapped, unmapped) = (Some("+254700000002"), Some("+254700000001"));
        assert!(Scope::All.covers(mapped, &attribution) && Scope::All.covers(None, &attribution));
        assert!(!Scope::ChatDefault.covers(mapped, &attribution));
        assert!(Scope::ChatDefault.covers(unmapped, &attribution) && Scope::ChatDefault.covers(None, &attribution));
        let senders = Scope::Senders(vec!["+254700000002".into()]);
        assert!(senders.covers(mapped, &attribution) && !senders.covers(unmapped, &attribution) && !senders.covers(None, &attribution));
    }

    #[test]
    fn only_phones_are_recorded_as_senders() {
        assert_eq!(phone_sender(Some("+254700000001".into())).as_deref(), Some("+254700000001"));
        assert_eq!(phone_sender(Some("Mama Mboga".into())), None);
    }
}
