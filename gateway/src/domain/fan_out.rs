//! Links that extraction drops instead of turning into product-chain jobs, and
//! why: the fixed reasons of `soko_links_dropped_total{reason}` and of the one
//! `links_dropped` record a message with drops gets in the failure log
//! (`recent_failures`). A record carries counts only, never the links, the
//! message text or a phone number.

/// The failure-log code of a message whose links were dropped.
pub const LINKS_DROPPED_CODE: &str = "links_dropped";

/// Why a link made no job. The label set of `soko_links_dropped_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkDropReason {
    /// Past `WHATSAPP_MAX_LINKS_PER_MESSAGE` in its message.
    PerMessageCap,
    /// The chat already made `WHATSAPP_MAX_PRODUCT_JOBS_PER_CHAT_PER_HOUR` jobs this hour.
    PerChatHourlyCap,
    /// A product id hydrate cannot fetch (not 16 digits).
    InvalidProductId,
}

impl LinkDropReason {
    pub const ALL: [Self; 3] = [Self::PerMessageCap, Self::PerChatHourlyCap, Self::InvalidProductId];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerMessageCap => "per_message_cap",
            Self::PerChatHourlyCap => "per_chat_hourly_cap",
            Self::InvalidProductId => "invalid_product_id",
        }
    }
}

/// How many links of one message (or of a page of messages) were dropped, per reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkDrops {
    counts: [u64; LinkDropReason::ALL.len()],
}

impl LinkDrops {
    pub fn add(&mut self, reason: LinkDropReason, count: u64) {
        self.counts[reason as usize] += count;
    }

    pub fn merge(&mut self, other: &LinkDrops) {
        for reason in LinkDropReason::ALL {
            self.add(reason, other.count(reason));
        }
    }

    pub fn count(&self, reason: LinkDropReason) -> u64 {
        self.counts[reason as usize]
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(reason, count)` for every reason, zeros included.
    pub fn by_reason(&self) -> impl Iterator<Item = (LinkDropReason, u64)> + '_ {
        LinkDropReason::ALL.into_iter().map(|reason| (reason, self.count(reason)))
    }

    /// The failure-log reason: fixed words and counts, such as
    /// `links dropped: per_message_cap=980` (reasons with a zero count left out).
    pub fn reason_text(&self) -> String {
        let parts: Vec<String> =
            self.by_reason().filter(|(_, n)| *n > 0).map(|(reason, n)| format!("{}={n}", reason.as_str())).collect();
        format!("links dropped: {}", parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_read_as_fixed_words() {
        let mut drops = LinkDrops::default();
        assert_eq!(drops.total(), 0);
        drops.add(LinkDropReason::PerMessageCap, 980);
        let mut other = LinkDrops::default();
        other.add(LinkDropReason::InvalidProductId, 2);
        other.add(LinkDropReason::PerMessageCap, 1);
        drops.merge(&other);
        assert_eq!((drops.count(LinkDropReason::PerMessageCap), drops.total()), (981, 983));
        assert_eq!(drops.reason_text(), "links dropped: per_message_cap=981 invalid_product_id=2");
    }

    #[test]
    fn reasons_are_indexed_in_order() {
        for (i, reason) in LinkDropReason::ALL.iter().enumerate() {
            assert_eq!(*reason as usize, i);
        }
    }
}
