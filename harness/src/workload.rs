//! The load workload: every batch body is generated before the clock starts,
//! so the send loop only signs and writes bytes.
//!
//! Message slot `i` (0-based, across the whole run) is either a new message
//! or a re-send of an earlier one. New messages are numbered `u = 0, 1, …`
//! and are a pure function of `u`: a unique `message_id`, a unique product
//! line, a chat and a sender drawn from fixed pools. Chat titles carry the
//! run id, so no message of this run can collide with an earlier run inside
//! the gateway's content-hash window. Chats also get a `chat_id` with the
//! `soko-load-` prefix of [`crate::marking`], so test traffic is recognisable. Duplicates are spread evenly
//! (`floor((i+1)·r) > floor(i·r)`), never in the first batch, and always copy
//! a message from an earlier batch, so a correct gateway reports exactly
//! `unique` created and `duplicates` deduped when every request succeeds.

use bytes::Bytes;
use collector_client::message::{IngestBatch, IngestMessage};

/// How far back a duplicate may reach, in new messages: duplicates in real
/// traffic are collector retries of recent batches.
const DUPLICATE_LOOKBACK: u64 = 4096;

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSpec {
    pub run_tag: String,
    pub client_id: String,
    pub count: u64,
    pub batch_size: u64,
    pub duplicate_ratio: f64,
    pub senders: u64,
    pub chats: u64,
    /// Consecutive message numbers sharing one chat (at least 1).
    pub chat_burst: u64,
    pub seed: u64,
    /// RFC 3339 upstream timestamp stamped on every message.
    pub timestamp: String,
}

/// One pre-serialised request body and what it holds.
#[derive(Debug, Clone)]
pub struct PreparedBatch {
    pub body: Bytes,
    pub messages: u32,
    pub duplicates: u32,
}

impl WorkloadSpec {
    pub fn batch_count(&self) -> u64 {
        self.count.div_ceil(self.batch_size.max(1))
    }

    fn floor_scaled(&self, slot: u64) -> u64 {
        (slot as f64 * self.duplicate_ratio).floor() as u64
    }

    /// Duplicates among slots `[0, slot)`.
    pub fn duplicates_before(&self, slot: u64) -> u64 {
        let first = self.batch_size;
        if slot <= first {
            return 0;
        }
        self.floor_scaled(slot) - self.floor_scaled(first)
    }

    pub fn is_duplicate(&self, slot: u64) -> bool {
        slot >= self.batch_size && self.floor_scaled(slot + 1) > self.floor_scaled(slot)
    }

    /// The new-message number of slot `slot` (meaningful for new messages).
    fn unique_number(&self, slot: u64) -> u64 {
        slot - self.duplicates_before(slot)
    }

    /// The message numbers of batch `index`, and how many are re-sends.
    fn batch_numbers(&self, index: u64) -> (Vec<u64>, u32) {
        let start = index * self.batch_size;
        let end = (start + self.batch_size).min(self.count);
        let earlier_unique = self.unique_number(start);
        let mut duplicates = 0u32;
        let numbers = (start..end)
            .map(|slot| {
                if self.is_duplicate(slot) && earlier_unique > 0 {
                    duplicates += 1;
                    let window = earlier_unique.min(DUPLICATE_LOOKBACK);
                    earlier_unique - 1 - mix(self.seed ^ slot.wrapping_mul(0x9E37_79B9)) % window
                } else {
                    self.unique_number(slot)
                }
            })
            .collect();
        (numbers, duplicates)
    }

    /// Batch `index` as the contract type (slow path, for tests and checks).
    pub fn batch_value(&self, index: u64) -> IngestBatch {
        let (numbers, _) = self.batch_numbers(index);
        IngestBatch { client_id: self.client_id.clone(), messages: numbers.into_iter().map(|n| self.message(n)).collect() }
    }

    /// Batch `index` serialised; byte-identical to `serde_json::to_vec(&batch_value(index))`.
    pub fn batch(&self, index: u64) -> Result<PreparedBatch, serde_json::Error> {
        self.writer()?.batch(self, index)
    }

    fn writer(&self) -> Result<BodyWriter, serde_json::Error> {
        // Pre-escaped JSON fragments: each is a JSON string without its closing quote.
        let open = |text: String| -> Result<Vec<u8>, serde_json::Error> {
            let mut json = serde_json::to_vec(&text)?;
            json.pop();
            Ok(json)
        };
        Ok(BodyWriter {
            head: [b"{\"client_id\":".as_slice(), &serde_json::to_vec(&self.client_id)?, b",\"messages\":["].concat(),
            chat_id_prefix: open(crate::marking::load_chat_id_prefix(&self.run_tag))?,
            chat_prefix: open(format!("Soko Load {} Chat ", self.run_tag))?,
            id_prefix: open(format!("load-{}-", self.run_tag))?,
            timestamp: serde_json::to_vec(&self.timestamp)?,
        })
    }

    /// The chat of message `number`: runs of `chat_burst` numbers share one, in turn.
    pub fn chat_of(&self, number: u64) -> u64 {
        (number / self.chat_burst.max(1)) % self.chats.max(1)
    }

    /// New message number `u`: a pure function, so a duplicate is byte-identical.
    pub fn message(&self, number: u64) -> IngestMessage {
        let chat = self.chat_of(number);
        let sender = mix(self.seed ^ number) % self.senders.max(1);
        IngestMessage {
            chat_id: Some(format!("{}{chat}", crate::marking::load_chat_id_prefix(&self.run_tag))),
            chat_title: format!("Soko Load {} Chat {chat}", self.run_tag),
            sender: Some(format!("+2547{:08}", sender)),
            sender_name: Some(format!("Vendor {sender}")),
            message_id: Some(format!("load-{}-{number}", self.run_tag)),
            timestamp: Some(serde_json::Value::String(self.timestamp.clone())),
            text: Some(product_line(number)),
            ..IngestMessage::default()
        }
    }

    /// Generates every batch, on all cores, before the run starts.
    pub fn prepare(&self, threads: usize) -> Result<Vec<PreparedBatch>, serde_json::Error> {
        let writer = self.writer()?;
        let writer = &writer;
        let total = self.batch_count();
        let threads = (threads.max(1) as u64).min(total.max(1));
        let per_thread = total.div_ceil(threads);
        let chunks: Vec<Result<Vec<PreparedBatch>, serde_json::Error>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        let range = (t * per_thread)..((t + 1) * per_thread).min(total);
                        range.map(|b| writer.batch(self, b)).collect::<Result<Vec<_>, _>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        });
        let mut batches = Vec::with_capacity(total as usize);
        for chunk in chunks {
            batches.extend(chunk?);
        }
        Ok(batches)
    }
}

/// Writes batch bodies straight into bytes, without building the contract
/// structs: preparing a million messages takes seconds instead of tens.
struct BodyWriter {
    head: Vec<u8>,
    chat_id_prefix: Vec<u8>,
    chat_prefix: Vec<u8>,
    id_prefix: Vec<u8>,
    timestamp: Vec<u8>,
}

impl BodyWriter {
    fn batch(&self, spec: &WorkloadSpec, index: u64) -> Result<PreparedBatch, serde_json::Error> {
        use std::io::Write as _;
        let (numbers, duplicates) = spec.batch_numbers(index);
        let mut out = Vec::with_capacity(self.head.len() + numbers.len() * 240 + 2);
        out.extend_from_slice(&self.head);
        for (i, number) in numbers.iter().enumerate() {
            let chat = spec.chat_of(*number);
            let sender = mix(spec.seed ^ number) % spec.senders.max(1);
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"chat_id\":");
            out.extend_from_slice(&self.chat_id_prefix);
            // Writing into a Vec cannot fail; the results are io::Result only by signature.
            let _ = write!(out, "{chat}\",\"chat_title\":");
            out.extend_from_slice(&self.chat_prefix);
            let _ = write!(out, "{chat}\",\"sender\":\"+2547{sender:08}\",\"sender_name\":\"Vendor {sender}\",\"message_id\":");
            out.extend_from_slice(&self.id_prefix);
            let _ = write!(out, "{number}\",\"timestamp\":");
            out.extend_from_slice(&self.timestamp);
            out.extend_from_slice(b",\"text\":");
            serde_json::to_writer(&mut out, &product_line(*number))?;
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        Ok(PreparedBatch { body: Bytes::from(out), messages: numbers.len() as u32, duplicates })
    }
}

/// Products vendors post, with a base price and the way they write it.
const PRODUCTS: &[(&str, u64, &str)] = &[
    ("Pixel 8 Pro", 750, "$"),
    ("iPhone 13 128GB", 62_000, "KES"),
    ("Samsung Galaxy A54", 42_500, "Ksh"),
    ("Tecno Spark 20", 15_999, "KES"),
    ("Infinix Hot 40i", 13_500, "Ksh"),
    ("Redmi Note 13", 24_000, "KES"),
    ("HP EliteBook 840 G5", 38_000, "Ksh"),
    ("Dell Latitude 7490", 35_500, "KES"),
    ("MacBook Air M1", 95_000, "KES"),
    ("JBL Flip 6 speaker", 14_000, "Ksh"),
    ("Oraimo FreePods 4", 3_800, "KES"),
    ("Sony WH-1000XM4 headphones", 32_000, "KES"),
    ("Hisense 43 inch smart TV", 31_000, "Ksh"),
    ("Ramtons microwave 20L", 9_500, "KES"),
    ("Von gas cooker 4 burner", 27_000, "KES"),
    ("Nike Air Force 1", 4_500, "Ksh"),
    ("Adidas Samba", 5_200, "KES"),
    ("Leather office bag", 2_800, "KES"),
    ("Cotton bedsheets queen", 1_900, "Ksh"),
    ("Wooden coffee table", 8_500, "KES"),
];

const COLOURS: &[&str] = &["black", "white", "blue", "grey", "red", "green", "gold", "silver"];

/// A one-item offer line, unique per `number`: product and colour cycle, and
/// the price rises by one unit per full cycle.
pub fn product_line(number: u64) -> String {
    let products = PRODUCTS.len() as u64;
    let colours = COLOURS.len() as u64;
    let (name, base, currency) = PRODUCTS[(number % products) as usize];
    let colour = COLOURS[((number / products) % colours) as usize];
    let price = base + number / (products * colours);
    let price = group_thousands(price);
    if currency == "$" { format!("{name} {colour} - ${price}") } else { format!("{name} {colour} - {currency} {price}") }
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// SplitMix64 finaliser: a cheap, well-spread deterministic hash.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn spec(count: u64, batch_size: u64, duplicate_ratio: f64) -> WorkloadSpec {
        WorkloadSpec {
            run_tag: "t3st".into(),
            client_id: "harness-test".into(),
            count,
            batch_size,
            duplicate_ratio,
            senders: 50,
            chats: 7,
            chat_burst: 1,
            seed: 42,
            timestamp: "2026-11-22T10:00:00Z".into(),
        }
    }

    fn decode(batches: &[PreparedBatch]) -> Vec<IngestMessage> {
        batches
            .iter()
            .flat_map(|b| serde_json::from_slice::<IngestBatch>(&b.body).expect("valid body").messages)
            .collect()
    }

    #[test]
    fn product_lines_read_like_offers() {
        assert_eq!(product_line(0), "Pixel 8 Pro black - $750");
        assert_eq!(product_line(1), "iPhone 13 128GB black - KES 62,000");
        assert_eq!(product_line(20), "Pixel 8 Pro white - $750");
        assert_eq!(product_line(160), "Pixel 8 Pro black - $751");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(999), "999");
    }

    #[test]
    fn counts_match_the_plan_and_duplicates_reuse_earlier_batches() {
        let spec = spec(1_000, 10, 0.2);
        let batches = spec.prepare(3).expect("serialises");
        assert_eq!(batches.len(), 100);
        let duplicates: u64 = batches.iter().map(|b| u64::from(b.duplicates)).sum();
        assert_eq!(duplicates, spec.duplicates_before(1_000));
        assert!((190..=200).contains(&duplicates), "{duplicates}");
        assert_eq!(batches[0].duplicates, 0);

        let mut seen_ids = HashSet::new();
        let mut seen_texts = HashSet::new();
        let mut repeats = 0;
        for (index, batch) in batches.iter().enumerate() {
            let messages = decode(std::slice::from_ref(batch));
            for message in messages {
                let id = message.message_id.clone().expect("id");
                if !seen_ids.insert(id.clone()) {
                    repeats += 1;
                    assert!(index > 0);
                } else {
                    assert!(seen_texts.insert((message.chat_title.clone(), message.text.clone())), "text reused by {id}");
                }
            }
        }
        // A duplicate may be drawn twice, so re-sends >= distinct repeats.
        assert_eq!(repeats, duplicates);
        assert_eq!(seen_ids.len() as u64, 1_000 - duplicates);
    }

    #[test]
    fn last_batch_may_be_short_and_pools_are_respected() {
        let spec = spec(25, 10, 0.0);
        let batches = spec.prepare(2).expect("serialises");
        assert_eq!(batches.iter().map(|b| b.messages).collect::<Vec<_>>(), vec![10, 10, 5]);
        let messages = decode(&batches);
        let chats: HashSet<_> = messages.iter().map(|m| m.chat_title.clone()).collect();
        assert_eq!(chats.len(), 7);
        let chat_ids: HashSet<_> = messages.iter().filter_map(|m| m.chat_id.clone()).collect();
        assert_eq!(chat_ids.len(), 7);
        assert!(chat_ids.iter().all(|id| id.starts_with("soko-load-t3st-chat-")), "{chat_ids:?}");
        assert!(messages.iter().all(|m| m.sender.as_deref().is_some_and(|s| s.len() == 13 && s.starts_with("+2547"))));
    }

    #[test]
    fn a_chat_burst_keeps_each_batch_in_one_chat() {
        let spec = WorkloadSpec { chats: 1_000, chat_burst: 10, ..spec(40, 10, 0.0) };
        let batches = spec.prepare(2).expect("serialises");
        let per_batch: Vec<HashSet<String>> = batches
            .iter()
            .map(|b| serde_json::from_slice::<IngestBatch>(&b.body).expect("valid body").messages)
            .map(|messages| messages.into_iter().map(|m| m.chat_title).collect())
            .collect();
        assert!(per_batch.iter().all(|chats| chats.len() == 1), "{per_batch:?}");
        let all: HashSet<_> = per_batch.into_iter().flatten().collect();
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn parallel_preparation_equals_sequential() {
        let spec = spec(333, 7, 0.3);
        let one: Vec<_> = spec.prepare(1).expect("ok").into_iter().map(|b| b.body).collect();
        let four: Vec<_> = spec.prepare(4).expect("ok").into_iter().map(|b| b.body).collect();
        assert_eq!(one, four);
    }

    proptest! {
        #[test]
        fn fast_bodies_equal_serde_bodies(count in 1u64..300, batch in 1u64..40, ratio in 0.0f64..0.9, tag in "[a-z0-9\"\\\\ é]{0,8}", client in "\\PC{0,12}") {
            let spec = WorkloadSpec { run_tag: tag, client_id: client, ..spec(count, batch, ratio) };
            for index in 0..spec.batch_count() {
                let fast = spec.batch(index).expect("fast");
                let slow = serde_json::to_vec(&spec.batch_value(index)).expect("serde");
                prop_assert_eq!(fast.body.as_ref(), slow.as_slice());
            }
        }

        #[test]
        fn duplicates_equal_the_plan_for_any_ratio(count in 1u64..600, batch in 1u64..60, ratio in 0.0f64..0.95) {
            let spec = spec(count, batch, ratio);
            let batches = spec.prepare(2).expect("serialises");
            let planned: u64 = batches.iter().map(|b| u64::from(b.duplicates)).sum();
            prop_assert_eq!(planned, spec.duplicates_before(count));
            let ids: HashSet<_> = decode(&batches).into_iter().filter_map(|m| m.message_id).collect();
            prop_assert_eq!(ids.len() as u64, count - planned);
        }
    }
}
