//! The price-list template vendors download (`GET /documents/templates/vendor-price`, seed 002):
//! one sheet with the standard header row `MODEL/SKU, DESCRIPTION, PRICE, QTY, CONDITION,
//! CURRENCY` and two example rows, built so that importing it unchanged gives exactly those two
//! offers (a test checks it through the real upload).

use rust_xlsxwriter::{Format, Workbook, XlsxError};

pub const MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const FILE_NAME: &str = "vendor-price-template.xlsx";

/// The standard headers, in order.
pub const HEADERS: [&str; 6] = ["MODEL/SKU", "DESCRIPTION", "PRICE", "QTY", "CONDITION", "CURRENCY"];

/// The example rows: SKU, description, price, quantity, condition.
const EXAMPLES: [(&str, &str, f64, f64, &str); 2] = [
    ("SM-A155", "Samsung Galaxy A15 128GB", 18_500.0, 12.0, "new"),
    ("IP12-64", "iPhone 12 64GB", 45_000.0, 3.0, "ex-UK"),
];

/// The workbook's bytes; `currency` fills the example rows' currency column.
pub fn vendor_price(currency: &str) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let price = Format::new().set_num_format("#,##0");
    let sheet = book.add_worksheet();
    sheet.set_name("Price list")?;
    for (column, header) in (0u16..).zip(HEADERS) {
        sheet.write_string_with_format(0, column, header, &bold)?;
    }
    for (row, (sku, description, amount, quantity, condition)) in (1u32..).zip(EXAMPLES) {
        sheet.write_string(row, 0, sku)?;
        sheet.write_string(row, 1, description)?;
        sheet.write_number_with_format(row, 2, amount, &price)?;
        sheet.write_number(row, 3, quantity)?;
        sheet.write_string(row, 4, condition)?;
        sheet.write_string(row, 5, currency)?;
    }
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 36)?;
    sheet.set_column_width(2, 12)?;
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::{DocumentInput, Format as FileFormat, sheet::Spreadsheet, Processor};

    #[test]
    fn the_template_reads_back_as_its_two_example_offers() {
        let bytes = vendor_price("UGX").expect("template");
        let rows = Spreadsheet { format: FileFormat::Workbook }
            .read(&DocumentInput {
                bytes: &bytes,
                default_currency: "KES",
                max_expanded_bytes: 1 << 20,
                ocr: crate::documents::ocr::OcrTools::default(),
                keep_unread: 0,
            })
            .expect("readable")
            .rows;
        let read: Vec<_> = rows.iter().map(|r| (r.sku.as_deref(), r.price.as_str(), r.currency.as_str(), r.quantity)).collect();
        assert_eq!(read, [(Some("SM-A155"), "18500", "UGX", Some(12)), (Some("IP12-64"), "45000", "UGX", Some(3))]);
        assert_eq!(rows[1].condition.as_deref(), Some("ex_uk"));
    }
}
