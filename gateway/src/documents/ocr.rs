//! The OCR processor (`processor = "ocr"`): a photo or scan of a price list (`.png`, `.jpg`,
//! `.webp`, `.tif`) read by the `tesseract` command (Debian's `tesseract-ocr`), its text then
//! line by line through the chat offer extractor ([`super::text_rows`]). A PDF without a text
//! layer (a scan) is first turned into one grey 300 dpi PNG per page by `pdftoppm` (Debian's
//! `poppler-utils`), at most [`MAX_PAGES`] pages.
//!
//! Each program runs as a child process in a scratch directory with a timeout
//! ([`super::command`]). When either is not installed the document fails with `ocr_unavailable`,
//! never silently; when one fails or outlasts its timeout, with `ocr_failed`.

use std::{ffi::OsStr, time::Duration};

use super::{
    DocumentInput, ProcessError, Processor,
    command::{CommandError, Scratch, run},
    format::Image,
    pdf,
    rows::Extracted,
    text_rows::{PageText, read_pages},
};

/// The most pages of a scanned PDF read through OCR.
pub const MAX_PAGES: usize = 50;

/// The programs OCR runs and how long each may take.
#[derive(Debug, Clone, Copy)]
pub struct OcrTools<'a> {
    /// `tesseract`, or a path to it (`DocumentSettings::ocr_command`).
    pub command: &'a str,
    /// `pdftoppm`, or a path to it (`DocumentSettings::pdf_raster_command`).
    pub raster_command: &'a str,
    /// For each run of either program.
    pub timeout: Duration,
    /// tesseract's `-l`: `eng`, or several joined by `+` (`eng+swa`), each an installed
    /// language pack (`DocumentSettings::ocr_languages`).
    pub languages: &'a str,
}

impl Default for OcrTools<'_> {
    fn default() -> Self {
        Self {
            command: "tesseract",
            raster_command: "pdftoppm",
            timeout: Duration::from_secs(120),
            languages: "eng",
        }
    }
}

/// What the OCR processor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Image(Image),
    /// A PDF, read as page images whatever its text layer holds.
    Pdf,
}

/// `processor = "ocr"`.
pub struct Ocr {
    pub source: Source,
}

impl Processor for Ocr {
    fn name(&self) -> &'static str {
        "ocr"
    }

    fn read(&self, input: &DocumentInput<'_>) -> Result<Extracted, ProcessError> {
        match self.source {
            Source::Image(image) => {
                let scratch = Scratch::new().map_err(|e| failed(&e))?;
                let path = scratch
                    .write(&format!("upload.{}", image.extension()), input.bytes)
                    .map_err(|e| failed(&e))?;
                let text = recognise(input.ocr, &scratch, path.as_os_str())?;
                rows_of(&[PageText { label: None, text }], input)
            }
            Source::Pdf => {
                let pages = pdf::open(input.bytes)?.get_pages().len();
                read_pdf(input, pages)
            }
        }
    }
}

/// A PDF of `pages` pages read through OCR, page by page; each page's rows carry its label.
pub fn read_pdf(input: &DocumentInput<'_>, pages: usize) -> Result<Extracted, ProcessError> {
    if pages > MAX_PAGES {
        return Err(ProcessError::OcrFailed(format!(
            "the scanned PDF has {pages} pages; OCR reads at most {MAX_PAGES}"
        )));
    }
    let tools = input.ocr;
    let scratch = Scratch::new().map_err(|e| failed(&e))?;
    let pdf_path = scratch
        .write("upload.pdf", input.bytes)
        .map_err(|e| failed(&e))?;
    let last = pages.to_string();
    // `-q`: no warnings about the PDF's fonts on stderr; pages are written as `page-N.png`.
    let args: [&OsStr; 9] = [
        "-r".as_ref(),
        "300".as_ref(),
        "-gray".as_ref(),
        "-png".as_ref(),
        "-q".as_ref(),
        "-l".as_ref(),
        last.as_ref(),
        pdf_path.as_os_str(),
        "page".as_ref(),
    ];
    run(tools.raster_command, &args, &scratch, tools.timeout).map_err(|error| match error {
        CommandError::Missing { .. } => ProcessError::OcrUnavailable(format!(
            "the PDF has no text layer and cannot be turned into page images: {error} \
             (install Debian's poppler-utils)"
        )),
        other => failed(&other),
    })?;
    let mut images: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir(scratch.path())
        .map_err(|e| ProcessError::OcrFailed(e.to_string()))?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let number = name
                .strip_prefix("page-")?
                .strip_suffix(".png")?
                .parse()
                .ok()?;
            Some((number, entry.path()))
        })
        .collect();
    images.sort();
    if images.is_empty() {
        return Err(ProcessError::OcrFailed(
            "pdftoppm wrote no page images".to_owned(),
        ));
    }
    let mut texts = Vec::with_capacity(images.len());
    for (number, path) in images {
        let text = recognise(tools, &scratch, path.as_os_str())?;
        texts.push(PageText {
            label: Some(pdf::page_label(number as usize)),
            text,
        });
    }
    rows_of(&texts, input)
}

fn rows_of(pages: &[PageText], input: &DocumentInput<'_>) -> Result<Extracted, ProcessError> {
    let out = read_pages(pages, input.default_currency);
    if out.rows.is_empty() && out.errors.is_empty() {
        return Err(ProcessError::NoOffers);
    }
    Ok(out)
}

/// The text tesseract reads on the image at `path` (page segmentation 4: one column of lines of
/// varying size, as a price list is laid out).
fn recognise(tools: OcrTools<'_>, scratch: &Scratch, path: &OsStr) -> Result<String, ProcessError> {
    let args: [&OsStr; 6] = [
        path,
        "stdout".as_ref(),
        "-l".as_ref(),
        tools.languages.as_ref(),
        "--psm".as_ref(),
        "4".as_ref(),
    ];
    match run(tools.command, &args, scratch, tools.timeout) {
        Ok(stdout) => Ok(String::from_utf8_lossy(&stdout).into_owned()),
        Err(error @ CommandError::Missing { .. }) => Err(ProcessError::OcrUnavailable(format!(
            "OCR is not available: {error} (install Debian's tesseract-ocr)"
        ))),
        Err(CommandError::Failed { stderr, .. }) if stderr.contains("Failed loading language") => {
            Err(ProcessError::OcrUnavailable(format!(
                "OCR has no language pack for {:?} (DOCUMENT_OCR_LANGUAGES): install Debian's tesseract-ocr-<language>",
                tools.languages
            )))
        }
        Err(other) => Err(failed(&other)),
    }
}

fn failed(error: &CommandError) -> ProcessError {
    ProcessError::OcrFailed(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(bytes: &'a [u8], tools: OcrTools<'a>) -> DocumentInput<'a> {
        DocumentInput {
            bytes,
            default_currency: "KES",
            max_expanded_bytes: crate::documents::DocumentSettings::DEFAULT_MAX_EXPANDED_BYTES,
            ocr: tools,
            keep_unread: 0,
        }
    }

    #[test]
    fn a_missing_tesseract_is_ocr_unavailable() {
        let tools = OcrTools {
            command: "/nonexistent/tesseract",
            ..OcrTools::default()
        };
        let error = Ocr {
            source: Source::Image(Image::Png),
        }
        .read(&input(b"\x89PNG\r\n\x1a\n", tools))
        .expect_err("no OCR");
        assert_eq!(error.code(), "ocr_unavailable", "{error}");
        assert!(error.to_string().contains("tesseract"), "{error}");
    }

    #[test]
    fn a_missing_rasteriser_is_ocr_unavailable_for_a_scanned_pdf() {
        let bytes = super::super::document_fixtures::text_pdf(&[&[]]);
        let tools = OcrTools {
            raster_command: "/nonexistent/pdftoppm",
            ..OcrTools::default()
        };
        let error = pdf::PdfText
            .read(&input(&bytes, tools))
            .expect_err("no rasteriser");
        assert_eq!(error.code(), "ocr_unavailable", "{error}");
        assert!(error.to_string().contains("poppler-utils"), "{error}");
    }

    #[test]
    fn too_many_scanned_pages_are_refused() {
        let error = read_pdf(&input(b"%PDF-1.5", OcrTools::default()), MAX_PAGES + 1)
            .expect_err("too many");
        assert_eq!(error.code(), "ocr_failed");
    }

    #[test]
    fn a_language_without_its_pack_is_ocr_unavailable() {
        // Needs `tesseract` (scripts/setup-test-env.sh installs it), which refuses the made-up pack.
        let tools = OcrTools {
            languages: "zzz",
            ..OcrTools::default()
        };
        let png = {
            let mut bytes = Vec::new();
            image::RgbImage::from_pixel(40, 20, image::Rgb([255, 255, 255]))
                .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
                .expect("png");
            bytes
        };
        let error = Ocr {
            source: Source::Image(Image::Png),
        }
        .read(&input(&png, tools))
        .expect_err("no pack");
        assert_eq!(error.code(), "ocr_unavailable", "{error}");
        assert!(error.to_string().contains("\"zzz\""), "{error}");
    }
}
