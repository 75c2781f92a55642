use super::*;
use proptest::prelude::*;

fn options(title: &str) -> ExportOptions {
    ExportOptions { chat_title: title.into(), utc_offset: parse_utc_offset("+03:00").unwrap_or_else(|e| panic!("{e}")), date_order: None }
}

fn parse(text: &str) -> ParsedExport {
    parse_export(text, &options("Nairobi Phones")).unwrap_or_else(|e| panic!("parse failed: {e}"))
}

#[test]
fn multi_line_messages_keep_their_lines() {
    let export = "31/12/2023, 21:41 - Alice: Samsung A14\n128GB\nKSh 18,500\n31/12/2023, 21:42 - Bob: ok\n";
    let parsed = parse(export);
    assert_eq!(parsed.messages.len(), 2);
    assert_eq!(parsed.messages[0].text.as_deref(), Some("Samsung A14\n128GB\nKSh 18,500"));
    assert_eq!(parsed.messages[0].timestamp_rfc3339().as_deref(), Some("2023-12-31T21:41:00+03:00"));
    assert_eq!(parsed.messages[1].text.as_deref(), Some("ok"));
}

#[test]
fn system_lines_of_both_layouts_are_skipped() {
    let export = concat!(
        "31/12/2023, 21:40 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.\n",
        "31/12/2023, 21:40 - Alice created group \"Nairobi Phones\"\n",
        "31/12/2023, 21:40 - Alice added +254 712 345 678\n",
        "31/12/2023, 21:40 - Alice changed the subject from \"Phones: old\" to \"Nairobi Phones\"\n",
        "[31/12/2023, 21:40:05] Nairobi Phones: \u{200E}Bob left\n",
        "31/12/2023, 21:41 - Alice: real offer\n",
    );
    let parsed = parse(export);
    assert_eq!(parsed.messages.len(), 1);
    assert_eq!(parsed.report.system_lines_skipped, 5);
}

#[test]
fn identical_messages_in_the_same_minute_get_distinct_stable_ids() {
    let export = "31/12/2023, 21:41 - Alice: restocked\n31/12/2023, 21:41 - Alice: restocked\n";
    let first = parse(export);
    let again = parse(export);
    let ids: Vec<_> = first.messages.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert_eq!(ids, again.messages.iter().map(|m| m.message_id.clone()).collect::<Vec<_>>());
    // The id names the chat: the same line in another chat is another message.
    let other = parse_export(export, &options("Mombasa Deals")).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(other.messages[0].message_id, ids[0]);
}

#[test]
fn the_utc_offset_only_changes_the_timestamp() {
    let export = "31/12/2023, 21:41 - Alice: hi\n";
    let nairobi = parse(export);
    let mut utc = options("Nairobi Phones");
    utc.utc_offset = parse_utc_offset("Z").unwrap_or_else(|e| panic!("{e}"));
    let utc = parse_export(export, &utc).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(utc.messages[0].timestamp_rfc3339().as_deref(), Some("2023-12-31T21:41:00Z"));
    assert_eq!(utc.messages[0].message_id, nairobi.messages[0].message_id);
}

#[test]
fn a_forced_date_order_wins_over_detection() {
    let export = "03/04/24, 10:00 - Alice: hi\n";
    let mut forced = options("c");
    forced.date_order = Some(DateOrder::MonthFirst);
    let parsed = parse_export(export, &forced).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.messages[0].timestamp_rfc3339().as_deref(), Some("2024-03-04T10:00:00+03:00"));
    assert_eq!(parsed.report.date_order_evidence, Some(OrderEvidence::Override));
}

#[test]
fn text_that_is_not_an_export_is_refused() {
    assert!(matches!(parse_export("hello\nworld\n", &options("c")), Err(ExportError::NoMessages)));
    assert!(matches!(parse_export("", &options("c")), Err(ExportError::NoMessages)));
}

#[test]
fn utc_offsets_parse_and_bad_ones_say_why() {
    let seconds = |text: &str| parse_utc_offset(text).map(|offset| offset.local_minus_utc());
    assert_eq!(seconds("+03:00"), Ok(3 * 3600));
    assert_eq!(seconds("-0530"), Ok(-(5 * 3600 + 30 * 60)));
    assert_eq!(seconds("UTC"), Ok(0));
    for bad in ["03:00", "+3", "+25:00", "+03:75", "nairobi"] {
        let error = parse_utc_offset(bad).err().unwrap_or_default();
        assert!(error.contains("+HH:MM"), "{bad}: {error}");
    }
}

fn header_like_line() -> impl Strategy<Value = String> {
    let date = (0u32..40, 0u32..40, prop_oneof![0u32..100, 1990u32..2100], prop_oneof![Just('/'), Just('.'), Just('-')]);
    let time = (0u32..30, 0u32..70, proptest::option::of(0u32..70), proptest::option::of(prop_oneof![Just(" AM"), Just("\u{202F}pm"), Just(" p. m.")]));
    let rest = "\\PC{0,40}";
    (date, time, rest, any::<bool>()).prop_map(|((d1, d2, d3, sep), (h, m, s, ap), rest, ios)| {
        let seconds = s.map(|s| format!(":{s:02}")).unwrap_or_default();
        let clock = format!("{h}:{m:02}{seconds}{}", ap.unwrap_or(""));
        if ios { format!("\u{200E}[{d1}{sep}{d2}{sep}{d3}, {clock}] {rest}") } else { format!("{d1}{sep}{d2}{sep}{d3}, {clock} - {rest}") }
    })
}

proptest! {
    #[test]
    fn the_line_parser_never_panics_on_any_text(line in "\\PC{0,120}") {
        let _ = parse_header(&line);
        let _ = split_sender(&line);
        let _ = classify_body(&line);
        let _ = normalise_sender(&line);
    }

    #[test]
    fn header_shaped_lines_never_panic_and_keep_valid_clock_fields(line in header_like_line()) {
        if let Some(header) = parse_header(&line) {
            prop_assert!(header.time.minute <= 59 && header.time.second <= 59);
            prop_assert!(header.time.hour <= 23);
        }
    }

    #[test]
    fn whole_exports_never_panic(lines in proptest::collection::vec(prop_oneof![header_like_line(), "\\PC{0,60}"], 0..30)) {
        let text = lines.join("\n");
        if let Ok(parsed) = parse_export(&text, &options("p")) {
            prop_assert_eq!(parsed.report.messages, parsed.messages.len());
            for message in &parsed.messages {
                prop_assert!(message.message_id.starts_with("wa-export-"));
                prop_assert!(message.text.is_some() || !message.media.is_empty());
            }
        }
    }

    #[test]
    fn any_bytes_are_read_and_parsed_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512), zipped in any::<bool>()) {
        let bytes = if zipped { [b"PK\x03\x04".as_slice(), &bytes].concat() } else { bytes };
        if let Ok(export) = read_export_bytes_capped("upload", &bytes, 4096) {
            let _ = looks_like_export(&export.text);
            let _ = parse_export(&export.text, &options("p"));
        }
    }

    #[test]
    fn any_text_parses_or_is_refused_without_panicking(text in "\\PC{0,400}") {
        let _ = looks_like_export(&text);
        let headers = text.lines().filter(|line| parse_header(line.strip_suffix('\r').unwrap_or(line)).is_some()).count();
        match parse_export(&text, &options("p")) {
            Ok(parsed) => prop_assert!(headers > 0 && parsed.messages.len() <= headers),
            Err(error) => prop_assert!(headers == 0 && matches!(error, ExportError::NoMessages)),
        }
    }
}
