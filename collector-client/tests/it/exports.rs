//! The export parser on real-shaped export files (tests/fixtures/exports):
//! Android and iOS, 12 h and 24 h, day-first, month-first and year-first,
//! a zip, CRLF and a BOM, U+200E/U+202F/no-break spaces, media placeholders.

use collector_client::export::{DateOrder, ExportOptions, Layout, OrderEvidence, ParsedExport, parse_export, parse_utc_offset, read_export_file};
use collector_client::message::IngestMessage;
use std::collections::HashSet;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports").join(name)
}

fn parse_fixture(name: &str) -> (String, ParsedExport) {
    let export = read_export_file(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let options = ExportOptions { chat_title: export.chat_title.clone(), utc_offset: parse_utc_offset("+03:00").expect("offset"), date_order: None };
    let parsed = parse_export(&export.text, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    (export.chat_title, parsed)
}

/// The same, owned, as compared.
type Row = (String, String, Option<String>, Option<Option<String>>);

/// (sender phone or name, timestamp, text, media: None = no media, Some(caption))
type Expected = (&'static str, &'static str, Option<&'static str>, Option<Option<&'static str>>);

struct Case {
    file: &'static str,
    title: &'static str,
    layout: Layout,
    order: DateOrder,
    evidence: OrderEvidence,
    twelve_hour: bool,
    system: usize,
    deleted: usize,
    messages: Vec<Expected>,
}

fn who(message: &IngestMessage) -> String {
    message.sender.clone().or_else(|| message.sender_name.clone()).unwrap_or_default()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            file: "WhatsApp Chat with Nairobi Phones.txt",
            title: "Nairobi Phones",
            layout: Layout::Android,
            order: DateOrder::MonthFirst,
            evidence: OrderEvidence::SecondFieldAbove12,
            twelve_hour: true,
            system: 4,
            deleted: 1,
            messages: vec![
                ("Wanjiru", "2023-12-30T09:20:00+03:00", Some("Welcome! Post your stock with prices please"), None),
                ("+254712345678", "2023-12-30T11:02:00+03:00", Some("Samsung Galaxy A14 128GB\nBrand new sealed\nKSh 18,500"), None),
                ("+254712345678", "2023-12-30T11:05:00+03:00", None, Some(None)),
                ("Otieno Tech", "2023-12-31T00:30:00+03:00", Some("iPhone 12 Pro 256GB ex-UK 52k"), None),
                ("Mama Njeri", "2023-12-31T21:41:00+03:00", Some("Tecno Spark 10 - 14,000 bob"), None),
            ],
        },
        Case {
            file: "WhatsApp Chat with Eastleigh Traders.txt",
            title: "Eastleigh Traders",
            layout: Layout::Android,
            order: DateOrder::DayFirst,
            evidence: OrderEvidence::FirstFieldAbove12,
            twelve_hour: false,
            system: 3,
            deleted: 0,
            messages: vec![
                ("Hassan", "2023-12-28T14:30:00+03:00", Some("Price list today:\n\nInfinix Hot 30 - 16,500\nRedmi 12C - 13,000"), None),
                ("Amina Electronics", "2023-12-29T09:05:00+03:00", Some("Pixel 7 ex-UK 32k"), None),
                ("+254798765432", "2023-12-31T23:59:00+03:00", Some("Happy new year! Offers: Oppo A78 at 21k"), None),
            ],
        },
        Case {
            file: "WhatsApp-Chat mit Handy Markt.txt",
            title: "Handy Markt",
            layout: Layout::Android,
            order: DateOrder::DayFirst,
            evidence: OrderEvidence::FirstFieldAbove12,
            twelve_hour: false,
            system: 2,
            deleted: 0,
            messages: vec![
                ("Jonas", "2024-01-02T10:15:00+03:00", Some("iPhone 13 mini 128GB, 390 €"), None),
                ("Lea", "2024-01-03T18:22:00+03:00", None, Some(None)),
                ("Lea", "2024-01-15T07:45:00+03:00", Some("Samsung S21 gebraucht 250€"), None),
            ],
        },
        Case {
            file: "WhatsApp Chat - Kisumu Gadgets.txt",
            title: "Kisumu Gadgets",
            layout: Layout::Ios,
            order: DateOrder::DayFirst,
            evidence: OrderEvidence::FirstFieldAbove12,
            twelve_hour: false,
            system: 3,
            deleted: 1,
            messages: vec![
                ("Achieng", "2023-12-29T10:12:44+03:00", Some("Nokia G21 4/128 - KSh 15,999\nFree delivery within Kisumu"), None),
                ("Achieng", "2023-12-29T10:13:02+03:00", None, Some(None)),
                ("+254722000111", "2023-12-30T16:47:31+03:00", Some("Huawei Nova 9 ex-Dubai 28k"), None),
                ("Achieng", "2023-12-30T17:05:00+03:00", None, Some(None)),
            ],
        },
        Case {
            file: "WhatsApp Chat - Mombasa Deals.txt",
            title: "Mombasa Deals",
            layout: Layout::Ios,
            order: DateOrder::MonthFirst,
            evidence: OrderEvidence::SecondFieldAbove12,
            twelve_hour: true,
            system: 2,
            deleted: 0,
            messages: vec![
                ("Juma", "2023-12-29T08:30:00+03:00", Some("JBL Flip 6 speaker original 12,500/="), None),
                ("Fatma", "2023-12-29T12:00:59+03:00", Some("Is it available?"), None),
                ("Juma", "2023-12-30T00:15:00+03:00", None, Some(None)),
                ("Juma", "2023-12-31T21:41:05+03:00", Some("Last offer of the year:\nAirPods Pro 2 - 24k\nApple Watch SE - 29k"), None),
            ],
        },
        Case {
            file: "WhatsApp Chat - Nakuru Mobile Hub.zip",
            title: "Nakuru Mobile Hub",
            layout: Layout::Ios,
            order: DateOrder::DayFirst,
            evidence: OrderEvidence::FirstFieldAbove12,
            twelve_hour: false,
            system: 1,
            deleted: 0,
            messages: vec![
                ("Kiptoo", "2024-02-03T11:20:33+03:00", None, Some(None)),
                ("Kiptoo", "2024-02-03T11:21:10+03:00", Some("Vivo Y17s 6/128 - 17,800 with 1 year warranty"), None),
                ("Chebet", "2024-02-14T09:00:00+03:00", Some("Valentine offer: Samsung A05 - 11,999"), None),
            ],
        },
        Case {
            file: "WhatsApp Chat with Thika Road Sellers.txt",
            title: "Thika Road Sellers",
            layout: Layout::Android,
            order: DateOrder::MonthFirst,
            evidence: OrderEvidence::Chronology,
            twelve_hour: false,
            system: 0,
            deleted: 0,
            messages: vec![
                ("Kamau", "2024-01-02T08:10:00+03:00", Some("Itel A70 - 9,500"), None),
                ("Kamau", "2024-01-05T13:00:00+03:00", Some("Itel A70 sold out"), None),
                ("Njoroge", "2024-01-09T17:45:00+03:00", Some("Tecno Camon 20 - 23k"), None),
                ("Kamau", "2024-02-01T10:30:00+03:00", Some("New stock Friday"), None),
                ("Njoroge", "2024-02-03T19:05:00+03:00", Some("Redmi Note 12 - 22,500"), None),
            ],
        },
        Case {
            file: "WhatsApp Chat with Westlands Phones.txt",
            title: "Westlands Phones",
            layout: Layout::Android,
            order: DateOrder::YearFirst,
            evidence: OrderEvidence::YearFirstField,
            twelve_hour: false,
            system: 2,
            deleted: 0,
            messages: vec![
                ("Brian", "2024-03-05T14:07:00+03:00", Some("OnePlus Nord CE 3 Lite - 27k"), None),
                ("Wambui", "2024-03-06T09:30:00+03:00", Some("Still available?"), None),
            ],
        },
        Case {
            file: "WhatsApp Chat with Kenyatta Market.txt",
            title: "Kenyatta Market",
            layout: Layout::Android,
            order: DateOrder::DayFirst,
            evidence: OrderEvidence::FirstFieldAbove12,
            twelve_hour: true,
            system: 1,
            deleted: 0,
            messages: vec![
                ("Mwangi", "2024-01-05T08:10:00+03:00", Some("Samsung A24 6/128 brand new 24,999"), Some(Some("Samsung A24 6/128 brand new 24,999"))),
                ("Mwangi", "2024-01-05T08:11:00+03:00", None, Some(None)),
                ("Akinyi", "2024-01-05T12:00:00+03:00", Some("Do you deliver to Thika?"), None),
                ("Mwangi", "2024-01-13T18:30:00+03:00", Some("Yes, delivery 300 bob"), None),
            ],
        },
    ]
}

#[test]
fn every_fixture_parses_into_the_expected_messages() {
    let cases = cases();
    assert!(cases.len() >= 8);
    for case in cases {
        let (title, parsed) = parse_fixture(case.file);
        let file = case.file;
        assert_eq!(title, case.title, "{file}");
        let report = &parsed.report;
        assert_eq!(report.layout, Some(case.layout), "{file}");
        assert_eq!(report.date_order, Some(case.order), "{file}");
        assert_eq!(report.date_order_evidence, Some(case.evidence), "{file}");
        assert_eq!(report.twelve_hour_clock, case.twelve_hour, "{file}");
        assert_eq!(report.system_lines_skipped, case.system, "{file}: system lines");
        assert_eq!(report.deleted_skipped, case.deleted, "{file}: deleted");
        assert_eq!(report.impossible_dates, 0, "{file}");
        let actual: Vec<Row> = parsed
            .messages
            .iter()
            .map(|m| {
                let media = m.media.first().map(|media| media.caption.clone());
                (who(m), m.timestamp.as_ref().and_then(|t| t.as_str()).unwrap_or_default().to_owned(), m.text.clone(), media)
            })
            .collect();
        let expected: Vec<Row> = case
            .messages
            .iter()
            .map(|(who, at, text, media)| ((*who).to_owned(), (*at).to_owned(), text.map(str::to_owned), media.map(|caption| caption.map(str::to_owned))))
            .collect();
        assert_eq!(actual, expected, "{file}");
        for message in &parsed.messages {
            assert_eq!(message.chat_title, case.title, "{file}");
            assert!(message.media.iter().all(|media| media.url.is_none()), "{file}: placeholders have no url");
            // A phone sender never also appears as a name, and vice versa.
            assert!(message.sender.is_some() != message.sender_name.is_some(), "{file}");
        }
        let unique: HashSet<_> = parsed.messages.iter().filter_map(|m| m.message_id.clone()).collect();
        assert_eq!(unique.len(), parsed.messages.len(), "{file}: ids are distinct");
    }
}

#[test]
fn reparsing_an_export_gives_the_same_message_ids() {
    for case in cases() {
        let (_, first) = parse_fixture(case.file);
        let (_, second) = parse_fixture(case.file);
        assert_eq!(first.messages, second.messages, "{}", case.file);
    }
}

#[test]
fn nothing_personal_is_invented_every_text_comes_from_the_file() {
    for case in cases() {
        let export = read_export_file(&fixture(case.file)).expect("read");
        let (_, parsed) = parse_fixture(case.file);
        for message in parsed.messages {
            for line in message.text.iter().flat_map(|text| text.lines()) {
                assert!(export.text.contains(line), "{}: {line:?} not in the file", case.file);
            }
        }
    }
}
