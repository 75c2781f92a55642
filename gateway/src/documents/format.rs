//! Which processor reads an upload: its extension, checked against its first bytes (a zip for
//! `.xlsx` and `.ods`, an OLE compound file for `.xls`, text without NUL bytes for `.csv` and
//! `.tsv`; `%PDF-` for `.pdf`; the PNG, JPEG, WebP or TIFF signature for an image). A file whose
//! bytes contradict its name is refused, never guessed at (an image named for another image kind
//! is still an image: its bytes say which). A `.txt` whose first lines are WhatsApp message
//! headers, and a zip holding a `.txt` chat, are chat exports.

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
    Pdf,
    /// A photo or scan, read through OCR.
    Image(Image),
}

/// The image kinds OCR reads, told by their signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Png,
    Jpeg,
    Webp,
    Tiff,
}

impl Image {
    /// The kind whose signature `bytes` start with.
    pub fn of(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
            Some(Self::Tiff)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
            Self::Tiff => "tif",
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Tiff => "image/tiff",
        }
    }
}

/// A PDF's header, which readers accept anywhere in the first KiB.
fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|window| window == b"%PDF-")
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
            (Self::Pdf, _) => "application/pdf",
            (Self::Image(image), _) => image.media_type(),
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
        "unsupported file type {0:?}: send .xlsx, .xls, .ods, .csv, .tsv, .pdf, .png, .jpg, .webp, .tif or a WhatsApp chat export (.txt or .zip)"
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
        Some("pdf") if is_pdf(bytes) => Ok(Format::Pdf),
        Some("pdf") => Err(FormatError::Mismatch {
            name: file_name.to_owned(),
            expected: "PDF",
        }),
        Some("png" | "jpg" | "jpeg" | "webp" | "tif" | "tiff") => Image::of(bytes)
            .map(Format::Image)
            .ok_or_else(|| FormatError::Mismatch {
                name: file_name.to_owned(),
                expected: "PNG, JPEG, WebP or TIFF image",
            }),
        // No telling extension: the bytes decide, and text is not guessed at.
        _ if chat_zip() => Ok(Format::ChatExport { zipped: true }),
        _ if zip || ole => Ok(Format::Workbook),
        _ if is_pdf(bytes) => Ok(Format::Pdf),
        _ => Image::of(bytes)
            .map(Format::Image)
            .ok_or_else(|| FormatError::Unsupported(ext.unwrap_or_default())),
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
            matches!(detect("photo.gif", b"GIF89a"), Err(FormatError::Unsupported(e)) if e == "gif")
        );
        assert!(matches!(
            detect("noext", b"hello"),
            Err(FormatError::Unsupported(_))
        ));
    }

    #[test]
    fn pdfs_and_images_are_told_by_their_signature() {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(detect("list.pdf", b"%PDF-1.7\n"), Ok(Format::Pdf));
        assert_eq!(detect("scan", b"\r\n%PDF-1.4"), Ok(Format::Pdf));
        assert!(matches!(
            detect("list.pdf", b"PK\x03\x04"),
            Err(FormatError::Mismatch { .. })
        ));
        assert_eq!(detect("photo.PNG", PNG), Ok(Format::Image(Image::Png)));
        assert_eq!(
            detect("photo.jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok(Format::Image(Image::Jpeg))
        );
        // A PNG saved as `.jpg` is still an image; its bytes say which.
        assert_eq!(detect("photo.jpg", PNG), Ok(Format::Image(Image::Png)));
        assert_eq!(
            detect("photo.webp", b"RIFF\x10\0\0\0WEBPVP8 "),
            Ok(Format::Image(Image::Webp))
        );
        assert_eq!(
            detect("scan.tif", b"II*\0\x08"),
            Ok(Format::Image(Image::Tiff))
        );
        assert_eq!(
            detect("scan.tiff", b"MM\0*\0"),
            Ok(Format::Image(Image::Tiff))
        );
        assert_eq!(
            detect("upload", b"RIFF\0\0\0\0WEBP"),
            Ok(Format::Image(Image::Webp))
        );
        assert!(matches!(
            detect("photo.png", b"RIFF\0\0\0\0WAVE"),
            Err(FormatError::Mismatch { .. })
        ));
        assert_eq!(Format::Image(Image::Jpeg).media_type("a.jpg"), "image/jpeg");
        assert_eq!(Format::Pdf.media_type("a.pdf"), "application/pdf");
    }
}
