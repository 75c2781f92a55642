//! Offer attributes read from the words around an item: condition (new,
//! ex-UK, refurbished, used), quantity (`2 pcs`, `x3`, `3 for`), the cues that
//! a product is offered without a price ("inbox for price") or is in stock,
//! and the greetings and notices that are never offers.

use serde::{Deserialize, Serialize};

use super::text::{Pattern, compiled, is_match};

/// The condition a vendor states for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    New,
    ExUk,
    Refurbished,
    Used,
}

impl Condition {
    /// The stored and serialised name: `new`, `ex_uk`, `refurbished`, `used`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::ExUk => "ex_uk",
            Self::Refurbished => "refurbished",
            Self::Used => "used",
        }
    }

    /// When a text states several conditions, the most specific one wins:
    /// "brand new ex-UK" is ex-UK, "used, like new" is used.
    fn rank(self) -> u8 {
        match self {
            Self::ExUk => 3,
            Self::Refurbished => 2,
            Self::Used => 1,
            Self::New => 0,
        }
    }
}

/// Condition phrases. `notnew` catches names and headers that only contain
/// "new" ("New Balance", "new arrivals") so they are neither read nor removed.
pub(crate) static CONDITION: Pattern = Pattern::new(|| compiled(CONDITION_PATTERN));

/// The source of [`CONDITION`], also read by `text`'s title-noise gate.
pub(crate) const CONDITION_PATTERN: &str = concat!(
    r"(?i)(?P<notnew>\bnew\s+(?:arrivals?|stock|year|balance|in|collection|week|month|customers?|location|branch|shop|york|prices?|items|products|offers?|deals?|season|look)\b)",
    r"|(?P<used>\b(?:like|as|almost|kama)\s+(?:new|mpya)\b|\b(?:foreign|locally|local|clean|slightly)\s+used\b|\bused\b|\b(?:second|2nd)\s*-?\s*hand\b|\bsecondhand\b|\bmi?tumba\b|\bpre\s*-?\s*owned\b|\bimetumika\b|\bex\s*[-.]?\s*(?:japan|jp|dubai|uae|usa|germany|europe)\b)",
    r"|(?P<exuk>\bex\s*[-.]?\s*uk\b|\bexuk\b|\buk\s+used\b)",
    r"|(?P<refurb>\brefurb(?:ished)?\b|\brenewed\b)",
    r"|(?P<new>\bbrand\s*-?\s*new\b|\bmpya\b|\bnew\b|\bsealed\b)",
);

/// Quantities: `2 pcs`, `3 pairs`, `vipande 4` is not read (rare), `x3`, `3x`, `3 for`.
/// The lowercase-only `x` keeps model names such as `BMW X3` out.
pub(crate) static QUANTITY: Pattern = Pattern::new(|| compiled(QUANTITY_PATTERN));

/// The source of [`QUANTITY`], also read by `text`'s title-noise gate.
pub(crate) const QUANTITY_PATTERN: &str = concat!(
    r"(?i)\b(?P<n1>\d{1,5})\s*(?:pcs|pieces|piece|pc|units|pairs|pair|pkts|packets|dozens?|vipande|kipande|jozi|sets)\b",
    r"|(?-i:(?:^|[\s(,])[x×]\s?(?P<n2>\d{1,4})\b)",
    r"|(?-i:\b(?P<n3>\d{1,4})\s?[x×](?:\s|$))",
    r"|\b(?P<n4>\d{1,4})\s+(?:for|kwa)\b",
);

/// "Inbox for price" and its kin: the item is offered, its price is private.
static PRICE_CUE: Pattern = Pattern::new(|| {
    compiled(concat!(
        r"(?i)\b(?:inbox|dm|pm|call|text|sms|whats\s?app|ask|contact)(?:\s+(?:us|me))?\s+for\s+(?:the\s+|a\s+)?(?:prices?|pricing|bei)\b",
        r"|\bprices?\s+(?:on|upon)\s+(?:request|inquiry|enquiry|call)\b",
        r"|\b(?:prices?|bei)\s*(?:is\s+|ni\s+|kwa\s+|on\s+|via\s+|in\s+)?:?\s*(?:inbox|dm|pm)\b",
        r"|\b(?:inbox|dm)\b|\bpm\s+(?:us|me)\b|\bprice\s*\?",
        r"|\b(?:call|whats\s?app|sms|text|tel|contact)(?:\s*(?:/|or|&)\s*(?:call|whats\s?app|sms|text))*(?:\s+(?:us|me))?(?:\s+(?:on|via|at))?\s*:?\s*(?:\+|0|254)\d",
    ))
});

/// The item is in stock or for sale ("available", "iko", "zipo").
static AVAILABILITY_CUE: Pattern = Pattern::new(|| {
    compiled(
        r"(?i)\b(?:available|in\s*stock|iko|ziko|zipo|ipo|tunazo|zinapatikana|inapatikana|for\s+sale|on\s+sale|now\s+selling|selling)\b",
    )
});

/// Lines about payment, delivery, opening hours or orders: never offers,
/// even when they hold a number that looks like a price.
const HARD_NOTICE_PATTERN: &str = concat!(
    r"(?i)^[\W_]*(?:(?:free\s+)?deliver(?:y|ies)\b|shipping\b|paybill\b|till\b|lipa\s+na\b|m-?pesa\b|pay\s+(?:via|to|through|using|with)\b|payment\b",
    r"|account\s*(?:no|number)\b|acc\s*no\b|location\b|located\b|find\s+us\b|visit\s+us\b|opening\s+hours\b",
    r"|open\s+(?:from|daily|mon|monday|today|tomorrow|on)\b|we\s*(?:'re|\s+are|\s+will\s+be)\s+(?:open|closed)\b",
    r"|(?:shop|store|office)\s+(?:is\s+|will\s+be\s+)?(?:closed|open)\b|closed\b|tumefunga\b|duka\s+(?:limefungwa|litafungwa|liko\s+wazi)\b",
    r"|(?:kind\s+)?reminder\b|notice\b|n\.?b\b|terms\b|follow\s+us\b|join\s+(?:our|my)\b)",
);

/// Notice phrases inside a line: the line is a notice from there on
/// (`Sofa 45k, delivery fee 500` still offers the sofa).
const NOTICE_PHRASE_PATTERN: &str =
    r"(?i)\b(?:your\s+order|order\s+(?:no|number|#|id)|paybill|till\s+(?:no|number)|delivery\s+(?:fee|charges?)|account\s+(?:no|number)|tracking\s+(?:no|number))\b";

/// Both kinds of notice in one pattern, so a line is scanned once. The first
/// is anchored at the start: when it matches, the leftmost match starts at 0;
/// when it does not, every match is a notice phrase's.
static NOTICE: Pattern =
    Pattern::new(|| compiled(&format!("(?:{HARD_NOTICE_PATTERN})|(?:{NOTICE_PHRASE_PATTERN})")));

/// Greetings and thanks: not offers unless the line also carries a price.
static SOFT_NOTICE: Pattern = Pattern::new(|| {
    compiled(concat!(
        r"(?i)^[\W_]*(?:good\s+(?:morning|afternoon|evening|night|day)|morning|hello|hi|hey|habari|hujambo|mambo|niaje|jambo|karibu|welcome|greetings|happy\s+\w+|blessed|tgif|shalom",
        r"|thank(?:s|\s+you)|asante|shukran|dear\s+(?:customers?|clients?|all|friends|family)|hope\s+you|have\s+a\s+(?:great|nice|blessed|good))\b",
        r"|\b(?:thank\s+you|asante\s+(?:sana|kwa))\b",
    ))
});

/// The most specific condition stated in `text`, if any.
pub fn condition_in(text: &str) -> Option<Condition> {
    let re = CONDITION.as_ref()?;
    // A plain match runs on the lazy DFA; captures only where there is one.
    if !re.is_match(text) {
        return None;
    }
    let mut best: Option<Condition> = None;
    for caps in re.captures_iter(text) {
        let found = if caps.name("used").is_some() {
            Condition::Used
        } else if caps.name("exuk").is_some() {
            Condition::ExUk
        } else if caps.name("refurb").is_some() {
            Condition::Refurbished
        } else if caps.name("new").is_some() {
            Condition::New
        } else {
            continue;
        };
        if best.is_none_or(|b| found.rank() > b.rank()) {
            best = Some(found);
        }
    }
    best
}

/// The first quantity stated in `text`, if any.
pub fn quantity_in(text: &str) -> Option<u32> {
    let re = QUANTITY.as_ref()?;
    if !re.is_match(text) {
        return None;
    }
    let caps = re.captures(text)?;
    ["n1", "n2", "n3", "n4"]
        .iter()
        .find_map(|name| caps.name(name))
        .and_then(|m| m.as_str().parse::<u32>().ok())
        .filter(|&n| n > 0)
}

pub fn has_price_cue(text: &str) -> bool {
    is_match(&PRICE_CUE, text)
}

pub fn has_availability_cue(text: &str) -> bool {
    is_match(&AVAILABILITY_CUE, text)
}

/// Where the notice part of a line starts: 0 when the whole line is about
/// payment, delivery, opening hours or an order; `None` when none of it is.
pub fn notice_start(line: &str) -> Option<usize> {
    NOTICE.as_ref()?.find(line).map(|m| m.start())
}

pub fn is_soft_notice(line: &str) -> bool {
    is_match(&SOFT_NOTICE, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for pattern in [&CONDITION, &QUANTITY, &PRICE_CUE, &AVAILABILITY_CUE, &NOTICE, &SOFT_NOTICE] {
            assert!(pattern.is_some());
        }
    }

    /// `notice_start` as it was written before the two patterns were joined:
    /// the anchored notice first, then the first notice phrase.
    fn notice_start_in_two_scans(line: &str) -> Option<usize> {
        let hard = compiled(HARD_NOTICE_PATTERN).expect("compiles");
        let phrase = compiled(NOTICE_PHRASE_PATTERN).expect("compiles");
        if hard.is_match(line) {
            return Some(0);
        }
        phrase.find(line).map(|m| m.start())
    }

    proptest::proptest! {
        #[test]
        fn one_notice_scan_answers_as_two_did(
            line in "(📍 |\\* |- |)((?i)(delivery|paybill|till|location|open|closed|we are|your|order|no|number|account|fee|thank you|sofa|45k|[a-z]{1,6}|[ ,.:#-]{1,2})\\s?){0,8}"
        ) {
            proptest::prop_assert_eq!(notice_start(&line), notice_start_in_two_scans(&line), "{:?}", line);
        }
    }

    #[test]
    fn one_notice_scan_answers_as_two_did_on_samples() {
        for line in ["Shop closed tomorrow", "Paybill 247247", "📍 Location: Westlands", "Thank you for your order", "Sofa 45k, delivery fee 500",
            "Sofa set 45k free delivery", "*Paybill* 4455, account no 12", "Order no. 4411", "Tracking number: KE12", "till number 5544", "", "🔥"] {
            assert_eq!(notice_start(line), notice_start_in_two_scans(line), "{line:?}");
        }
    }

    #[test]
    fn conditions_read_in_english_and_swahili() {
        let cases = [
            ("Brand new Samsung A14", Some(Condition::New)),
            ("simu mpya", Some(Condition::New)),
            ("HP 840 G5 ex-UK", Some(Condition::ExUk)),
            ("Ex UK laptops", Some(Condition::ExUk)),
            ("uk used fridge", Some(Condition::ExUk)),
            ("refurbished iPhone", Some(Condition::Refurbished)),
            ("second hand sofa", Some(Condition::Used)),
            ("2nd-hand bike", Some(Condition::Used)),
            ("mitumba jackets", Some(Condition::Used)),
            ("used, like new", Some(Condition::Used)),
            ("kama mpya", Some(Condition::Used)),
            ("sealed, brand new, ex-uk", Some(Condition::ExUk)),
            ("New arrivals", None),
            ("New Balance 574", None),
            ("renewable energy", None),
            ("Sofa set", None),
        ];
        for (text, want) in cases {
            assert_eq!(condition_in(text), want, "{text:?}");
        }
    }

    #[test]
    fn condition_serialises_in_snake_case() {
        assert_eq!(serde_json::to_string(&Condition::ExUk).ok().as_deref(), Some("\"ex_uk\""));
        assert_eq!(Condition::Refurbished.as_str(), "refurbished");
    }

    #[test]
    fn quantities_read_in_three_shapes() {
        let cases = [
            ("2 pcs", Some(2)),
            ("Socks x3", Some(3)),
            ("3x chargers", Some(3)),
            ("3 for 100", Some(3)),
            ("vipande 4", None),
            ("5 vipande", Some(5)),
            ("BMW X3", None),
            ("0 pcs", None),
        ];
        for (text, want) in cases {
            assert_eq!(quantity_in(text), want, "{text:?}");
        }
    }

    #[test]
    fn cues_and_notices() {
        assert!(has_price_cue("Inbox for price"));
        assert!(has_price_cue("bei inbox"));
        assert!(has_price_cue("DM for prices"));
        assert!(has_price_cue("Samsung A14 call/whatsapp 0712 345 678"));
        assert!(!has_price_cue("Call of Duty 2"));
        assert!(!has_price_cue("Sofa set 45k"));
        assert!(has_availability_cue("Now available"));
        assert!(has_availability_cue("zipo"));
        assert_eq!(notice_start("Shop closed tomorrow"), Some(0));
        assert_eq!(notice_start("Paybill 247247"), Some(0));
        assert_eq!(notice_start("📍 Location: Westlands"), Some(0));
        assert_eq!(notice_start("Thank you for your order"), Some(14));
        assert_eq!(notice_start("Sofa 45k, delivery fee 500"), Some(10));
        assert_eq!(notice_start("Sofa set 45k free delivery"), None);
        assert!(is_soft_notice("Good morning family 🌞"));
        assert!(is_soft_notice("Habari za asubuhi"));
        assert!(!is_soft_notice("Hisense TV 32 inch"));
    }
}
