//! Recognises the first line of a message in a WhatsApp chat export and
//! splits it into raw date fields, clock time and the rest of the line.
//!
//! Two layouts exist, each in many locales:
//! - Android: `12/31/23, 9:41 PM - Name: text`, `31.12.23, 21:41 - Name: text`
//! - iOS: `[31/12/2023, 21:41:05] Name: text`, `‎[12/31/23, 9:41:05 PM] Name: text`
//!
//! Date fields stay raw here: whether `03/04` is March or April is decided
//! per file from every line (see `dates`). Directional marks (U+200E, U+202A…)
//! may sit anywhere around the header and are skipped; Unicode spaces such as
//! U+202F and U+00A0 count as spaces. The rest of the line is returned as it
//! was, marks included, because a leading U+200E there means "system event" on
//! iOS.

use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    Android,
    Ios,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meridiem {
    Am,
    Pm,
}

/// Date fields in the order they were written; `year_first` when the first
/// field has 3-4 digits (`2023-12-31`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDate {
    pub first: u32,
    pub second: u32,
    pub third: u32,
    pub year_first: bool,
    pub separator: char,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTime {
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub meridiem: Option<Meridiem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLine<'a> {
    pub layout: Layout,
    pub date: RawDate,
    pub time: RawTime,
    /// Everything after the header: `Name: text`, or a system sentence.
    pub rest: &'a str,
}

/// Zero or more bidi/format marks that WhatsApp sprinkles around headers.
const MARKS: &str = r"[\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}\x{FEFF}]*";

fn datetime_pattern() -> String {
    format!(
        r"(?P<d1>[0-9]{{1,4}})(?P<sep>[./-]){m}(?P<d2>[0-9]{{1,2}}){m}[./-]{m}(?P<d3>[0-9]{{1,4}})\.?{m},?\s*{m}(?P<h>[0-9]{{1,2}})[:.](?P<mi>[0-9]{{2}})(?:[:.](?P<s>[0-9]{{2}}))?(?:\s*{m}(?P<ap>[AaPp])\.?\s?[Mm]\.?)?{m}",
        m = MARKS
    )
}

static ANDROID: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(r"^{m}{dt}\s+[-\x{{2013}}]\s(?P<rest>.*)$", m = MARKS, dt = datetime_pattern());
    Regex::new(&pattern).unwrap_or_else(|error| unreachable!("static regex: {error}"))
});

static IOS: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(r"^{m}\[{m}{dt}\]\s?(?P<rest>.*)$", m = MARKS, dt = datetime_pattern());
    Regex::new(&pattern).unwrap_or_else(|error| unreachable!("static regex: {error}"))
});

/// Parses one line; `None` when it does not start a message (a continuation
/// line, a blank line, or noise).
pub fn parse_header(line: &str) -> Option<HeaderLine<'_>> {
    let (layout, captures) = if let Some(captures) = IOS.captures(line) {
        (Layout::Ios, captures)
    } else {
        (Layout::Android, ANDROID.captures(line)?)
    };
    let number = |name: &str| captures.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let d1_text = captures.name("d1")?.as_str();
    let d3_text = captures.name("d3")?.as_str();
    let year_first = d1_text.len() >= 3;
    // A year has 2 or 4 digits; a day or month at most 2.
    let plausible = if year_first { d3_text.len() <= 2 && d1_text.len() == 4 } else { d3_text.len() == 2 || d3_text.len() == 4 };
    if !plausible {
        return None;
    }
    let date = RawDate {
        first: number("d1")?,
        second: number("d2")?,
        third: number("d3")?,
        year_first,
        separator: captures.name("sep")?.as_str().chars().next()?,
    };
    let meridiem = captures.name("ap").map(|m| if m.as_str().eq_ignore_ascii_case("a") { Meridiem::Am } else { Meridiem::Pm });
    let time = RawTime { hour: number("h")?, minute: number("mi")?, second: number("s").unwrap_or(0), meridiem };
    let time_is_valid = match meridiem {
        Some(_) => (1..=12).contains(&time.hour),
        None => time.hour <= 23,
    } && time.minute <= 59
        && time.second <= 59;
    if !time_is_valid {
        return None;
    }
    Some(HeaderLine { layout, date, time, rest: captures.name("rest")?.as_str() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(line: &str) -> HeaderLine<'_> {
        parse_header(line).unwrap_or_else(|| panic!("should parse: {line:?}"))
    }

    #[test]
    fn recognises_the_layouts_people_export() {
        struct Case {
            line: &'static str,
            layout: Layout,
            date: (u32, u32, u32),
            time: (u32, u32, u32),
            meridiem: Option<Meridiem>,
            rest: &'static str,
        }
        let cases = [
            Case { line: "12/31/23, 9:41 PM - Alice: hi", layout: Layout::Android, date: (12, 31, 23), time: (9, 41, 0), meridiem: Some(Meridiem::Pm), rest: "Alice: hi" },
            Case { line: "12/31/23, 9:41\u{202F}PM - Alice: hi", layout: Layout::Android, date: (12, 31, 23), time: (9, 41, 0), meridiem: Some(Meridiem::Pm), rest: "Alice: hi" },
            Case { line: "31/12/2023, 21:41 - Bob: x", layout: Layout::Android, date: (31, 12, 2023), time: (21, 41, 0), meridiem: None, rest: "Bob: x" },
            Case { line: "31.12.23, 21:41 - Bob: x", layout: Layout::Android, date: (31, 12, 23), time: (21, 41, 0), meridiem: None, rest: "Bob: x" },
            Case { line: "2023-12-31, 21:41 - Bob: x", layout: Layout::Android, date: (2023, 12, 31), time: (21, 41, 0), meridiem: None, rest: "Bob: x" },
            Case { line: "31/12/2023, 9:41 p.m. - Bob: x", layout: Layout::Android, date: (31, 12, 2023), time: (9, 41, 0), meridiem: Some(Meridiem::Pm), rest: "Bob: x" },
            Case { line: "31/12/2023 21:41 - Bob: x", layout: Layout::Android, date: (31, 12, 2023), time: (21, 41, 0), meridiem: None, rest: "Bob: x" },
            Case { line: "[31/12/2023, 21:41:05] Bob: x", layout: Layout::Ios, date: (31, 12, 2023), time: (21, 41, 5), meridiem: None, rest: "Bob: x" },
            Case { line: "\u{200E}[12/31/23, 9:41:05\u{202F}AM] Bob: \u{200E}image omitted", layout: Layout::Ios, date: (12, 31, 23), time: (9, 41, 5), meridiem: Some(Meridiem::Am), rest: "Bob: \u{200E}image omitted" },
            Case { line: "[31.12.23, 21:41:05] Bob: x", layout: Layout::Ios, date: (31, 12, 23), time: (21, 41, 5), meridiem: None, rest: "Bob: x" },
            Case { line: "31/12/2023, 21:41 - Messages and calls are end-to-end encrypted.", layout: Layout::Android, date: (31, 12, 2023), time: (21, 41, 0), meridiem: None, rest: "Messages and calls are end-to-end encrypted." },
        ];
        for case in cases {
            let parsed = header(case.line);
            assert_eq!(parsed.layout, case.layout, "{}", case.line);
            assert_eq!((parsed.date.first, parsed.date.second, parsed.date.third), case.date, "{}", case.line);
            assert_eq!((parsed.time.hour, parsed.time.minute, parsed.time.second), case.time, "{}", case.line);
            assert_eq!(parsed.time.meridiem, case.meridiem, "{}", case.line);
            assert_eq!(parsed.rest, case.rest, "{}", case.line);
        }
    }

    #[test]
    fn continuation_lines_and_noise_are_not_headers() {
        for line in [
            "",
            "second line of a message",
            "Price: 12/31 only",
            "12/31/23 is the date",
            "31/12/2023, 25:41 - Bob: bad hour",
            "31/12/2023, 13:41 PM - Bob: 13 PM",
            "[31/12/2023, 21:41:05 Bob: unclosed",
            "31/12/123, 21:41 - Bob: three digit year",
            "Samsung A14 - 12/31/23 9:41",
        ] {
            assert!(parse_header(line).is_none(), "should not parse: {line:?}");
        }
    }
}
