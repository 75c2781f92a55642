//! Which processor reads an upload: its extension, checked against its first bytes (a zip for
//! `.xlsx` and `.ods`, an OLE compound file for `.xls`, text without NUL bytes for `.csv` and
//! `.tsv`). A file whose bytes contradict its name is refused, never guessed at. A `.txt` whose
//! first lines are WhatsApp message headers, and a zip holding a `.txt` chat, are chat exports.

/// What the importer can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    /// `.xlsx`, `.xls` or `.ods`: calamine tells them apart by their bytes.
    Workbook,
    /// A WhatsApp chat export: its text, or a zip holding it.
    ChatExport {
        zipped: bool,
    },
}

impl Format {
    /// The media type stored with the document.
    pub fn media_type(self, file_name: &str) -> &'static str {
        match (self, extension(file_name).as_deref()) {
            (Self::Csv, _) => "text/csv",
            (Self::Tsv, _) => "text/tab-separated-values",
            (Self::Workbook, Some("xls")) => "application/vnd.ms-excel",
            (Self::Workbook, Some("ods")) => "application/vnd.oasis.opendocument.spreadsheet",
            (Self::Workbook, _) => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            (Self::ChatExport { zipped: true }, _) => "application/zip",
            (Self::ChatExport { zipped: false }, _) => "text/plain",
        }
    }

    /// How the spreadsheet processor reads it when told to: an export's text as CSV, its zip
    /// as a workbook (which then fails to open).
    pub fn as_sheet(self) -> Self {
        match self {
            Self::ChatExport { zipped: true } => Self::Workbook,
            Self::ChatExport { zipped: false } => Self::Csv,
            other => other,
        }
    }
}

pub(super) const ZIP: &[u8] = b"PK\x03\x04";
pub(super) const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Why an upload has no processor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error(
        "unsupported file type {0:?}: send .xlsx, .xls, .ods, .csv, .tsv or a WhatsApp chat export (.txt or .zip)"
    )]
    Unsupported(String),
    #[error("the file is named {name:?} but its bytes are not a {expected}")]
    Mismatch {
        name: String,
        expected: &'static str,
    },
    /// An `.xlsx` saved with a password is an encrypted OLE container.
    #[error("the workbook is password-protected (encrypted); save it without a password")]
    Encrypted,
}

fn extension(file_name: &str) -> Option<String> {
    let (_, ext) = file_name.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    !head.starts_with(ZIP) && !head.starts_with(OLE) && !head.contains(&0)
}

/// The format of `bytes` named `file_name`.
pub fn detect(file_name: &str, bytes: &[u8]) -> Result<Format, FormatError> {
    let ext = extension(file_name);
    let zip = bytes.starts_with(ZIP);
    let ole = bytes.starts_with(OLE);
    let chat_zip = || zip && super::chat_export::zip_holds_chat(bytes);
    match ext.as_deref() {
        Some("txt") if looks_like_text(bytes) && super::chat_export::text_is_export(bytes) => {
            Ok(Format::ChatExport { zipped: false })
        }
        Some("csv") | Some("txt") if looks_like_text(bytes) => Ok(Format::Csv),
        Some("tsv") | Some("tab") if looks_like_text(bytes) => Ok(Format::Tsv),
        Some("csv" | "txt" | "tsv" | "tab") => Err(FormatError::Mismatch {
            name: file_name.to_owned(),
            expected: "text file",
        }),
        Some("xlsx" | "xlsm" | "ods") if zip => Ok(Format::Workbook),
        Some("xlsx" | "xlsm" | "ods") if ole => Err(FormatError::Encrypted),
        Some("xlsx" | "xlsm" | "ods") => Err(FormatError::Mismatch {
            name: file_name.to_owned(),
            expected: "zip-based workbook",
        }),
        Some("xls") if ole || zip => Ok(Format::Workbook),
        Some("xls") => Err(FormatError::Mismatch {
            name: file_name.to_owned(),
            expected: "Excel workbook",
        }),
        Some("zip") if chat_zip() => Ok(Format::ChatExport { zipped: true }),
        Some("zip") => Err(FormatError::Mismatch {
            name: file_name.to_owned(),
            expected: "zip holding a WhatsApp chat export (_chat.txt)",
        }),
        // No telling extension: the bytes decide, and text is not guessed at.
        _ if chat_zip() => Ok(Format::ChatExport { zipped: true }),
        _ if zip || ole => Ok(Format::Workbook),
        _ => Err(FormatError::Unsupported(ext.unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_and_magic_bytes_agree_or_the_upload_is_refused() {
        assert_eq!(detect("list.CSV", b"Item,Price\n"), Ok(Format::Csv));
        assert_eq!(detect("list.tsv", b"Item\tPrice\n"), Ok(Format::Tsv));
        assert_eq!(detect("list.xlsx", b"PK\x03\x04rest"), Ok(Format::Workbook));
        assert_eq!(detect("list.ods", b"PK\x03\x04rest"), Ok(Format::Workbook));
        assert_eq!(detect("list.xls", OLE), Ok(Format::Workbook));
        assert_eq!(detect("upload", b"PK\x03\x04rest"), Ok(Format::Workbook));
        assert_eq!(detect("list.xlsx", OLE), Err(FormatError::Encrypted));
        assert!(matches!(
            detect("list.xlsx", b"Item,Price"),
            Err(FormatError::Mismatch { .. })
        ));
        assert!(matches!(
            detect("list.csv", b"PK\x03\x04"),
            Err(FormatError::Mismatch { .. })
        ));
        assert!(
            matches!(detect("photo.png", b"\x89PNG"), Err(FormatError::Unsupported(e)) if e == "png")
        );
        assert!(matches!(
            detect("noext", b"hello"),
            Err(FormatError::Unsupported(_))
        ));
    }
}
