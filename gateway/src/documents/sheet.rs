//! The spreadsheet processor: CSV and TSV through the `csv` crate, `.xlsx`, `.xls` and `.ods`
//! through calamine. Every sheet of a workbook is read; each finds its own header row.

use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};

use super::{
    DocumentInput, ProcessError, Processor,
    format::Format,
    rows::{Extracted, Grid, read_grid},
};

/// `processor = "spreadsheet"`.
pub struct Spreadsheet {
    pub format: Format,
}

impl Processor for Spreadsheet {
    fn name(&self) -> &'static str {
        "spreadsheet"
    }

    fn read(&self, input: &DocumentInput<'_>) -> Result<Extracted, ProcessError> {
        let grids = match self.format {
            Format::Csv => vec![delimited(input.bytes, b',')?],
            Format::Tsv => vec![delimited(input.bytes, b'\t')?],
            Format::Workbook => workbook(input.bytes)?,
        };
        let mut out = Extracted::default();
        let mut any_header = false;
        for grid in &grids {
            let has_content = grid
                .rows
                .iter()
                .any(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
            if read_grid(grid, input.default_currency, &mut out) {
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
            return Err(ProcessError::NoHeader);
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
    open_workbook_auto_from_rs(Cursor::new(bytes))
        .map(|_| ())
        .map_err(|error| ProcessError::Corrupt(format!("the workbook cannot be opened: {error}")))
}

fn workbook(bytes: &[u8]) -> Result<Vec<Grid>, ProcessError> {
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|error| {
        ProcessError::Corrupt(format!("the workbook cannot be opened: {error}"))
    })?;
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
        let rows: Vec<(Option<&str>, u32, &str, &str, &str)> = out
            .rows
            .iter()
            .map(|r| {
                (
                    r.sheet.as_deref(),
                    r.row,
                    r.title.as_str(),
                    r.price.as_str(),
                    r.currency.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (Some("Phones"), 4, "iPhone 12", "45000", "KES"),
                (Some("Tools"), 2, "DRILL-1", "89.99", "USD")
            ]
        );
        assert!(out.errors.is_empty(), "{:?}", out.errors);
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        assert_eq!(cell_text(&Data::Float(45000.0)), "45000");
        assert_eq!(cell_text(&Data::Float(12.5)), "12.5");
        assert_eq!(cell_text(&Data::Int(7)), "7");
    }
}
