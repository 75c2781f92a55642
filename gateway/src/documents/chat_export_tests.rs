//! The chat-export processor on generated exports: offers with their message numbers and spans,
//! questions and chatter left out, the latest price of a product kept, the default currency, a
//! zip read by its `_chat.txt`, and a zip that expands past the cap refused with the limit.

use super::*;
use crate::documents::{DocumentSettings, Format, PickError, document_fixtures::zip, format, pick, probe};

const LIMIT: u64 = crate::documents::DocumentSettings::DEFAULT_MAX_EXPANDED_BYTES;

const EXPORT: &str = "\u{feff}12/01/2024, 09:00 - Messages and calls are end-to-end encrypted. Tap to learn more.\n\
12/01/2024, 09:01 - +254 712 345 678: iPhone 12 64GB 45,000\n\
12/01/2024, 09:02 - Buyer Jane: Do you have Samsung A14 in stock?\n\
12/01/2024, 09:03 - +254 712 345 678: Samsung Galaxy A14 128GB\n\
Brand new\n\
KSh 18,500\n\
13/01/2024, 10:15 - +254 712 345 678: <Media omitted>\n\
13/01/2024, 10:16 - +254 712 345 678: iPhone 12 64GB 44,000\n\
13/01/2024, 10:17 - Otieno Tech: Tecno Spark 10 $95\n";

fn read(bytes: &[u8], currency: &str, max_expanded_bytes: u64) -> Result<Extracted, ProcessError> {
    ChatExport.read(&DocumentInput {
        bytes,
        default_currency: currency,
        max_expanded_bytes,
        ocr: crate::documents::ocr::OcrTools::default(),
        keep_unread: 0,
    })
}

/// (row, title, price, currency, source text)
fn rows(out: &Extracted) -> Vec<(u32, &str, &str, &str, &str)> {
    out.rows
        .iter()
        .map(|r| {
            (
                r.row,
                r.title.as_str(),
                r.price.as_str(),
                r.currency.as_str(),
                r.source_text.as_str(),
            )
        })
        .collect()
}

#[test]
fn every_priced_offer_becomes_a_row_and_the_latest_price_wins() {
    let out = read(
        EXPORT.as_bytes(),
        "KES",
        DocumentSettings::DEFAULT_MAX_EXPANDED_BYTES,
    )
    .expect("an export");
    // Messages: 1 the iPhone at 45,000, 2 the question, 3 the Samsung, 4 media, 5 the iPhone
    // again at 44,000, 6 the Tecno (the system line is not a message).
    assert_eq!(
        rows(&out),
        [
            (
                3,
                "Samsung Galaxy A14 128GB",
                "18500",
                "KES",
                "Samsung Galaxy A14 128GB\nBrand new\nKSh 18,500"
            ),
            (5, "iPhone 12 64GB", "44000", "KES", "iPhone 12 64GB 44,000"),
            (6, "Tecno Spark 10", "95", "USD", "Tecno Spark 10 $95"),
        ],
        "{:?}",
        out.rows
    );
    assert!(
        out.errors.is_empty(),
        "an earlier price is not an error: {:?}",
        out.errors
    );
    assert_eq!(out.rows[0].condition.as_deref(), Some("new"));
    assert!(
        out.rows
            .iter()
            .all(|r| r.sku.is_none() && r.sheet.is_none())
    );
    assert_eq!(out.rows[1].row_key(), "key:iphone 12 64gb");
}

#[test]
fn prices_without_a_marker_take_the_default_currency() {
    let out = read(EXPORT.as_bytes(), "UGX", u64::MAX).expect("an export");
    let currencies: Vec<&str> = out.rows.iter().map(|r| r.currency.as_str()).collect();
    assert_eq!(
        currencies,
        ["KES", "UGX", "USD"],
        "KSh is marked, $ too, 44,000 is not"
    );
}

#[test]
fn the_same_extraction_as_a_live_message() {
    let text = "Samsung Galaxy A14 128GB\nBrand new\nKSh 18,500";
    let live = extract_offers(
        text,
        &ExtractContext {
            default_currency: "KES",
        },
    );
    let export = format!("12/01/2024, 09:03 - Vendor: {text}\n");
    let out = read(export.as_bytes(), "KES", u64::MAX).expect("an export");
    assert_eq!(out.rows.len(), live.len());
    assert_eq!(out.rows[0].title, live[0].title);
    assert_eq!(out.rows[0].product_key, live[0].product_key);
    assert_eq!(&text[live[0].span.clone()], out.rows[0].source_text);
}

#[test]
fn a_zip_is_read_by_its_chat_and_one_that_expands_too_far_is_refused() {
    let export = zip(&[
        ("IMG-0001.jpg", b"\xFF\xD8"),
        ("_chat.txt", EXPORT.as_bytes()),
    ]);
    let out = read(&export, "KES", 1024 * 1024).expect("a zipped export");
    assert_eq!(out.rows.len(), 3);

    let zeros = vec![0u8; 3 * 1024 * 1024];
    let bomb = zip(&[("_chat.txt", EXPORT.as_bytes()), ("VID-0001.mp4", &zeros)]);
    assert!(bomb.len() < 100 * 1024, "{} bytes", bomb.len());
    let refused = read(&bomb, "KES", 2 * 1024 * 1024).expect_err("past the cap");
    assert_eq!(refused, ProcessError::TooLarge(2 * 1024 * 1024));
    assert_eq!(refused.code(), "too_large");
    assert!(refused.to_string().contains("2097152 bytes"), "{refused}");
}

#[test]
fn text_that_is_not_an_export_is_refused_without_its_content() {
    let refused = read(b"Item,Price\niPhone 12,45000\n", "KES", u64::MAX).expect_err("no export");
    assert!(
        refused.to_string().contains("no WhatsApp message lines"),
        "{refused}"
    );
    let no_chat = zip(&[("notes.csv", b"a,b")]);
    let refused = read(&no_chat, "KES", u64::MAX).expect_err("no chat");
    assert!(!refused.to_string().contains("upload"), "{refused}");
}

#[test]
fn exports_are_picked_by_their_text_or_their_zip_and_can_be_forced() {
    let zipped = zip(&[("_chat.txt", EXPORT.as_bytes())]);
    let csv = b"Item,Price\niPhone 12,45000\n".as_slice();
    let name = |file: &str, bytes: &[u8], requested: Option<&str>| {
        pick(file, bytes, requested).map(|p| p.name())
    };
    assert_eq!(
        name("WhatsApp Chat with Deals.txt", EXPORT.as_bytes(), None),
        Ok(NAME)
    );
    assert_eq!(name("WhatsApp Chat - Deals.zip", &zipped, None), Ok(NAME));
    assert_eq!(name("upload", &zipped, None), Ok(NAME));
    assert_eq!(name("list.txt", csv, None), Ok("spreadsheet"));
    assert_eq!(
        name("chat.log", EXPORT.as_bytes(), Some("whatsapp_text")),
        Ok(NAME)
    );
    assert_eq!(
        name("list.txt", EXPORT.as_bytes(), Some("spreadsheet")),
        Ok("spreadsheet")
    );
    assert!(matches!(
        name("x.txt", csv, Some("pdf_magic")),
        Err(PickError::UnknownProcessor(_))
    ));
    assert_eq!(
        format::detect("chat.zip", &zipped),
        Ok(Format::ChatExport { zipped: true })
    );
    let workbook_zip = zip(&[("xl/workbook.xml", b"<workbook/>")]);
    assert!(
        format::detect("chat.zip", &workbook_zip).is_err(),
        "a zip without a chat"
    );
    assert_eq!(
        format::detect("upload", &workbook_zip),
        Ok(Format::Workbook)
    );

    assert_eq!(probe("c.zip", &zipped, None, LIMIT), Ok((NAME, "application/zip")));
    assert_eq!(
        probe("c.txt", EXPORT.as_bytes(), Some("chat_export"), LIMIT),
        Ok((NAME, "text/plain"))
    );
    assert!(
        probe("c.txt", csv, Some("chat_export"), LIMIT).is_err(),
        "forced on a price list"
    );
}
