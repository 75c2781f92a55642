//! The spreadsheet processor: CSV and TSV through the `csv` crate, `.xlsx`, `.xls` and `.ods`
//! through calamine. Every sheet of a workbook is read; each finds its own header row.

use std::io::Cursor;

use calamine::{
    Data, Ods, Reader, Sheets, Xls, Xlsx, open_workbook_auto_from_rs, open_workbook_from_rs,
};

use super::{
    DocumentInput, ProcessError, Processor,
    format::Format,
    rows::{Extracted, Grid, read_grid},
};

/// The spreadsheet processor's name.
pub const NAME: &str = "spreadsheet";

/// `processor = "spreadsheet"`.
pub struct Spreadsheet {
    pub format: Format,
}

impl Processor for Spreadsheet {
    fn name(&self) -> &'static str {
        NAME
    }

    fn read(&self, input: &DocumentInput<'_>) -> Result<Extracted, ProcessError> {
        let grids = match self.format {
            // A chat export's text named as a spreadsheet is CSV (`Format::as_sheet`).
            Format::Csv | Format::ChatExport { zipped: false } => {
                vec![delimited(input.bytes, b',')?]
            }
            Format::Tsv => vec![delimited(input.bytes, b'\t')?],
            Format::Workbook | Format::ChatExport { zipped: true } => {
                super::zip_limit::check(input.bytes, input.max_expanded_bytes)?;
                workbook(input.bytes)?
            }
            Format::Pdf | Format::Image(_) => {
                return Err(ProcessError::Corrupt(
                    "the file is not a spreadsheet".to_owned(),
                ));
            }
        };
        let mut out = Extracted::default();
        let mut any_header = false;
        for grid in &grids {
            let has_content = grid
                .rows
                .iter()
                .any(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
            if read_grid(grid, input.default_currency, input.keep_unread, &mut out) {
                any_header |= has_content;
            } else {
                out.errors.push(crate::domain::RowError {
                    row: None,
                    sheet: grid.sheet.clone(),
                    reason: "no header row with a price and a description or SKU column".to_owned(),
                });
            }
        }
        if !any_header {
            // Asked to keep unread rows (for the LLM), a sheet without a header is not the end:
            // the import fails with `no_header` only if the LLM reads nothing either.
            if out.unread.is_empty() {
                return Err(ProcessError::NoHeader);
            }
            out.no_header = true;
        }
        Ok(out)
    }
}

fn delimited(bytes: &[u8], delimiter: u8) -> Result<Grid, ProcessError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record
                    .position()
                    .map_or(rows.len() as u64 + 1, csv::Position::line);
                let cells = record
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                rows.push((u32::try_from(line).unwrap_or(u32::MAX), cells));
            }
            Err(error) => {
                return Err(ProcessError::Corrupt(format!(
                    "the text file cannot be read: {error}"
                )));
            }
        }
    }
    Ok(Grid { sheet: None, rows })
}

/// Whether the workbook opens (its container and sheet list), without reading its cells.
pub fn open_check(bytes: &[u8]) -> Result<(), ProcessError> {
    open_book(bytes).map(|_| ())
}

/// Opens the workbook with the reader its bytes call for (an OLE file is `.xls`; a zip whose
/// first entry is `mimetype` is OpenDocument; another zip is `.xlsx`, else whatever calamine
/// recognises), so a refusal carries that reader's reason (`Workbook is password protected`).
fn open_book(bytes: &[u8]) -> Result<Sheets<Cursor<&[u8]>>, ProcessError> {
    let cursor = Cursor::new(bytes);
    let opened = if bytes.starts_with(super::format::OLE) {
        open_workbook_from_rs::<Xls<_>, _>(cursor)
            .map(Sheets::Xls)
            .map_err(|e| e.to_string())
    } else if bytes.starts_with(super::format::ZIP)
        && bytes.get(30..38) == Some(b"mimetype".as_slice())
    {
        open_workbook_from_rs::<Ods<_>, _>(cursor)
            .map(Sheets::Ods)
            .map_err(|e| e.to_string())
    } else {
        match open_workbook_from_rs::<Xlsx<_>, _>(cursor.clone()) {
            Ok(book) => Ok(Sheets::Xlsx(book)),
            Err(xlsx) => open_workbook_auto_from_rs(cursor).map_err(|_| xlsx.to_string()),
        }
    };
    opened
        .map_err(|reason| ProcessError::Corrupt(format!("the workbook cannot be opened: {reason}")))
}

fn workbook(bytes: &[u8]) -> Result<Vec<Grid>, ProcessError> {
    let mut book = open_book(bytes)?;
    let mut grids = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|error| {
            ProcessError::Corrupt(format!("sheet {name:?} cannot be read: {error}"))
        })?;
        let (first_row, first_col) = range.start().unwrap_or((0, 0));
        let rows = range
            .rows()
            .enumerate()
            .map(|(i, cells)| {
                let mut text: Vec<String> = vec![String::new(); first_col as usize];
                text.extend(cells.iter().map(cell_text));
                (
                    first_row
                        .saturating_add(u32::try_from(i).unwrap_or(u32::MAX))
                        .saturating_add(1),
                    text,
                )
            })
            .collect();
        grids.push(Grid {
            sheet: Some(name),
            rows,
        });
    }
    Ok(grids)
}

/// A cell as text; numbers as their shortest exact decimal (`45000`, `12.5`).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(value) => value.to_string(),
        Data::Float(value) => value.to_string(),
        Data::Bool(value) => value.to_string(),
        Data::DateTime(value) => value.as_f64().to_string(),
        Data::Error(error) => format!("#{error:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(format: Format, bytes: &[u8]) -> Result<Extracted, ProcessError> {
        Spreadsheet { format }.read(&DocumentInput {
            bytes,
            default_currency: "KES",
            max_expanded_bytes: crate::documents::DocumentSettings::DEFAULT_MAX_EXPANDED_BYTES,
            ocr: super::super::ocr::OcrTools::default(),
            keep_unread: 0,
        })
    }

    #[test]
    fn csv_with_a_title_row_a_bom_and_quoted_thousands() {
        let text = "\u{feff}Kamau Shop,,\nItem,Qty,Price (KES)\n\"iPhone 12, 64GB\",2,\"45,000\"\nBad row,1,abc\n";
        let out = read(Format::Csv, text.as_bytes()).expect("reads");
        assert_eq!(out.rows.len(), 1);
        assert_eq!(
            (
                out.rows[0].row,
                out.rows[0].title.as_str(),
                out.rows[0].price.as_str()
            ),
            (3, "iPhone 12, 64GB", "45000")
        );
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].row, Some(4));
    }

    #[test]
    fn tsv_and_a_file_without_any_header() {
        let out = read(Format::Tsv, b"SKU\tPrice\nA1\t1 200\n").expect("reads");
        assert_eq!(
            (out.rows[0].title.as_str(), out.rows[0].price.as_str()),
            ("A1", "1200")
        );
        assert!(matches!(
            read(Format::Csv, b"just,some\ntext,here\n"),
            Err(ProcessError::NoHeader)
        ));
    }

    #[test]
    fn a_corrupt_workbook_is_refused_with_the_reason() {
        let error = read(Format::Workbook, b"PK\x03\x04 not really a zip").expect_err("refused");
        assert!(
            matches!(&error, ProcessError::Corrupt(reason) if reason.contains("workbook")),
            "{error}"
        );
    }

    #[test]
    fn every_sheet_of_an_xlsx_is_read_under_its_own_header() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let phones = book.add_worksheet();
        phones.set_name("Phones").unwrap();
        phones
            .merge_range(
                0,
                0,
                0,
                2,
                "KAMAU ELECTRONICS",
                &rust_xlsxwriter::Format::new(),
            )
            .unwrap();
        phones.write_string(2, 0, "Description").unwrap();
        phones.write_string(2, 1, "Price (KES)").unwrap();
        phones.write_string(3, 0, "iPhone 12").unwrap();
        phones.write_number(3, 1, 45000.0).unwrap();
        let empty = book.add_worksheet();
        empty.set_name("Notes").unwrap();
        let tools = book.add_worksheet();
        tools.set_name("Tools").unwrap();
        tools.write_string(0, 0, "SKU").unwrap();
        tools.write_string(0, 1, "USD").unwrap();
        tools.write_string(1, 0, "DRILL-1").unwrap();
        tools.write_number(1, 1, 89.99).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let out = read(Format::Workbook, &bytes).expect("reads");
        assert_eq!(
            out.summary(),
            [
                (Some("Phones"), 4, "iPhone 12", "45000", "KES"),
                (Some("Tools"), 2, "DRILL-1", "89.99", "USD")
            ]
        );
        assert!(out.errors.is_empty(), "{:?}", out.errors);
    }

    /// A minimal OpenDocument spreadsheet; `encrypted` marks its manifest as password-protected.
    fn ods(rows: &[(&str, &str)], encrypted: bool) -> Vec<u8> {
        use std::io::Write;
        let cell = |value: &str| match value.parse::<f64>() {
            Ok(number) => format!(
                r#"<table:table-cell office:value-type="float" office:value="{number}"><text:p>{value}</text:p></table:table-cell>"#
            ),
            Err(_) => format!(
                r#"<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>"#
            ),
        };
        let body: String = rows
            .iter()
            .map(|(a, b)| format!("<table:table-row>{}{}</table:table-row>", cell(a), cell(b)))
            .collect();
        let content = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Prices">{body}</table:table></office:spreadsheet></office:body></office:document-content>"#
        );
        let encryption = if encrypted {
            "<manifest:encryption-data/>"
        } else {
            ""
        };
        let manifest = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">{encryption}</manifest:file-entry></manifest:manifest>"#
        );
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, text) in [
            ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
            ("META-INF/manifest.xml", manifest.as_str()),
            ("content.xml", content.as_str()),
        ] {
            zip.start_file(name, stored).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn an_ods_sheet_is_read_and_an_encrypted_one_refused_with_the_reason() {
        let bytes = ods(
            &[
                ("Shop of the week", ""),
                ("Item", "Price (UGX)"),
                ("Sugar 2kg", "7500"),
                ("Rice 5kg", "1,250.50"),
            ],
            false,
        );
        assert!(super::super::format::detect("list.ods", &bytes).is_ok());
        let out = read(Format::Workbook, &bytes).expect("reads");
        assert_eq!(
            out.summary(),
            [
                (Some("Prices"), 3, "Sugar 2kg", "7500", "UGX"),
                (Some("Prices"), 4, "Rice 5kg", "1250.5", "UGX")
            ]
        );
        let locked = ods(&[("Item", "Price"), ("Sugar", "1")], true);
        let error = open_check(&locked).expect_err("refused");
        assert!(
            matches!(&error, ProcessError::Corrupt(reason) if reason.contains("password")),
            "{error}"
        );
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        assert_eq!(cell_text(&Data::Float(45000.0)), "45000");
        assert_eq!(cell_text(&Data::Float(12.5)), "12.5");
        assert_eq!(cell_text(&Data::Int(7)), "7");
    }
}
