//! The PDF processor (`processor = "pdf"`, alias `document_text`): the text layer of every page
//! through `pdf-extract` (on `lopdf`), then line by line through the chat offer extractor
//! ([`super::text_rows`]); rows carry their page as `sheet` (`page 2`). A PDF with no text on any
//! page is a scan: it is read through OCR ([`super::ocr`]) instead, and fails with
//! `ocr_unavailable` when OCR is not installed. A page without text inside a PDF that has text
//! elsewhere is reported as a page-wide error, never guessed at.
//!
//! An encrypted or corrupt PDF is refused as a whole; [`open_check`] is the upload's cheap probe.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf_extract::{Document, PlainTextOutput, output_doc_page};

use super::{
    DocumentInput, ProcessError, Processor, ocr,
    rows::Extracted,
    text_rows::{PageText, read_pages},
};
use crate::domain::RowError;

/// `processor = "pdf"`.
pub struct PdfText;

impl Processor for PdfText {
    fn name(&self) -> &'static str {
        "pdf"
    }

    fn read(&self, input: &DocumentInput<'_>) -> Result<Extracted, ProcessError> {
        let document = open(input.bytes)?;
        let pages = text_layer(&document)?;
        if pages.iter().all(|page| page.text.trim().is_empty()) {
            return ocr::read_pdf(input, pages.len());
        }
        let blank: Vec<String> = pages
            .iter()
            .filter(|page| page.text.trim().is_empty())
            .filter_map(|page| page.label.clone())
            .collect();
        let mut out = read_pages(&pages, input.default_currency);
        if out.rows.is_empty() && out.errors.is_empty() {
            return Err(ProcessError::NoOffers);
        }
        out.errors.extend(blank.into_iter().map(|page| RowError {
            row: None,
            sheet: Some(page),
            reason: "the page has no text layer (a scan?): send the file with processor \"ocr\" to read it"
                .to_owned(),
        }));
        Ok(out)
    }
}

/// The label of page `number` (1-based): its rows' and errors' `sheet`.
pub fn page_label(number: usize) -> String {
    format!("page {number}")
}

/// Loads the PDF; an encrypted one (a user password is needed) or one that does not parse is
/// refused with the reason. A PDF with only an owner password opens as usual.
pub fn open(bytes: &[u8]) -> Result<Document, ProcessError> {
    let loaded = catch_unwind(AssertUnwindSafe(|| Document::load_mem(bytes))).map_err(|_| {
        ProcessError::Corrupt("the PDF cannot be opened: its structure is broken".to_owned())
    })?;
    let document = loaded.map_err(|error| match error {
        pdf_extract::Error::Decryption(_) | pdf_extract::Error::InvalidPassword => encrypted(),
        other => ProcessError::Corrupt(format!("the PDF cannot be opened: {other}")),
    })?;
    if document.is_encrypted() {
        return Err(encrypted());
    }
    if document.get_pages().is_empty() {
        return Err(ProcessError::Corrupt("the PDF has no pages".to_owned()));
    }
    Ok(document)
}

fn encrypted() -> ProcessError {
    ProcessError::Corrupt(
        "the PDF is password-protected (encrypted); send it without a password".to_owned(),
    )
}

/// Whether the upload opens as a PDF (its cross-reference table, objects and page tree), without
/// reading its text.
pub fn open_check(bytes: &[u8]) -> Result<(), ProcessError> {
    open(bytes).map(|_| ())
}

/// Every page's text, in page order; a page whose content cannot be read is a corrupt document
/// (a half-read price list would remove the offers of the pages it lost).
fn text_layer(document: &Document) -> Result<Vec<PageText>, ProcessError> {
    let numbers: Vec<u32> = document.get_pages().into_keys().collect();
    let mut pages = Vec::with_capacity(numbers.len());
    for (index, number) in numbers.into_iter().enumerate() {
        let mut text = String::new();
        let read = catch_unwind(AssertUnwindSafe(|| {
            let mut output = PlainTextOutput::new(&mut text);
            output_doc_page(document, &mut output, number)
        }));
        match read {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                return Err(ProcessError::Corrupt(format!(
                    "page {} of the PDF cannot be read: {error}",
                    index + 1
                )));
            }
            Err(_) => {
                return Err(ProcessError::Corrupt(format!(
                    "page {} of the PDF cannot be read: its fonts or content are broken",
                    index + 1
                )));
            }
        }
        pages.push(PageText {
            label: Some(page_label(index + 1)),
            text,
        });
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::super::document_fixtures::text_pdf;
    use super::*;

    fn read(bytes: &[u8]) -> Result<Extracted, ProcessError> {
        PdfText.read(&DocumentInput {
            bytes,
            default_currency: "KES",
            max_expanded_bytes: crate::documents::DocumentSettings::DEFAULT_MAX_EXPANDED_BYTES,
            ocr: ocr::OcrTools::default(),
            keep_unread: 0,
        })
    }

    #[test]
    fn the_text_layer_of_every_page_becomes_rows() {
        let bytes = text_pdf(&[
            &[
                "KAMAU ELECTRONICS PRICE LIST",
                "Samsung A15 128GB KES 18,500",
                "Tecno Spark 20 KES 14,000",
            ],
            &["iPhone 12 64GB KES 45,000", "Oppo A78 KES call"],
        ]);
        let out = read(&bytes).expect("reads");
        assert_eq!(
            out.summary(),
            [
                (Some("page 1"), 2, "Samsung A15 128GB", "18500", "KES"),
                (Some("page 1"), 3, "Tecno Spark 20", "14000", "KES"),
                (Some("page 2"), 4, "iPhone 12 64GB", "45000", "KES"),
            ],
            "{:?}",
            out.errors
        );
        let errors: Vec<(Option<u32>, Option<&str>)> = out
            .errors
            .iter()
            .map(|e| (e.row, e.sheet.as_deref()))
            .collect();
        assert_eq!(errors, [(Some(5), Some("page 2"))], "{:?}", out.errors);
    }

    #[test]
    fn a_pdf_without_offers_or_with_a_broken_structure_is_refused() {
        let bytes = text_pdf(&[&["Just a letter", "Regards"]]);
        assert_eq!(read(&bytes).expect_err("no offers"), ProcessError::NoOffers);
        for broken in [
            b"%PDF-1.7\nnot really a pdf".as_slice(),
            &bytes[..bytes.len() / 2],
        ] {
            let error = open_check(broken).expect_err("refused");
            assert!(
                matches!(&error, ProcessError::Corrupt(reason) if reason.contains("PDF")),
                "{error}"
            );
        }
    }

    /// `text_pdf` saved with RC4 128-bit encryption: `user` is the password needed to open it
    /// (empty: anyone opens it, only the owner password restricts it).
    fn encrypted(user: &str) -> Vec<u8> {
        let plain = text_pdf(&[&["Samsung A15 128GB KES 18,500"]]);
        let mut document = Document::load_mem(&plain).expect("loads");
        let id = lopdf::Object::string_literal("soko-test-file-id");
        document.trailer.set("ID", vec![id.clone(), id]);
        let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
            document: &document,
            owner_password: "owner-secret",
            user_password: user,
            key_length: 128,
            permissions: lopdf::Permissions::all(),
        })
        .expect("encryption state");
        document.encrypt(&state).expect("encrypts");
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).expect("pdf bytes");
        bytes
    }

    #[test]
    fn a_password_protected_pdf_is_refused_and_an_owner_only_one_read() {
        let error = open_check(&encrypted("open-sesame")).expect_err("refused");
        assert!(
            matches!(&error, ProcessError::Corrupt(reason) if reason.contains("password-protected")),
            "{error}"
        );
        let out = read(&encrypted("")).expect("opens without a password");
        let rows: Vec<(&str, &str)> = out
            .rows
            .iter()
            .map(|r| (r.title.as_str(), r.price.as_str()))
            .collect();
        assert_eq!(rows, [("Samsung A15 128GB", "18500")]);
    }
}
