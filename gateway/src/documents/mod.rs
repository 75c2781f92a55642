//! Vendor documents (issue 16): price lists sent as spreadsheets, PDFs or photos become offers of
//! their vendor, re-synced by difference. The public face:
//! - [`Processor`], the one trait every reader implements, and [`pick`], which chooses it from the
//!   file's extension and magic bytes (or the `processor` the client names);
//! - [`DocumentSettings`], owned here and filled in by `config`;
//! - [`import::ImportStage`], the durable job that reads a stored upload and applies the diff;
//! - [`probe`], the cheap check an upload gets before it is accepted (format, and whether a
//!   workbook opens at all), so a corrupt file is refused at once with its reason.
//!
//! Processors: [`sheet`] (spreadsheets), [`chat_export`] (WhatsApp chat exports, through the
//! `chat-export` crate the collector shares), [`pdf`] (a PDF's text layer) and [`ocr`] (photos and
//! scans through `tesseract`).
//!
//! The pure parts are small modules: [`format`] (which processor), [`header`] (the header row),
//! [`cells`] (amounts, quantities, currencies), [`rows`] (a sheet's rows), [`diff`] (the
//! partition into create, update, unchanged and removed), [`history`] (the price changes an
//! import appends to `price_history`), [`text_rows`] (a text's lines through the chat offer
//! extractor, for [`pdf`] and [`ocr`]), [`command`] (the outside programs OCR runs),
//! [`llm_rows`] (the request and the checked answer of LLM normalisation) and
//! [`llm_normalise`] (its calls, for an import with `prefer_llm`).

pub mod artefacts;
pub mod cells;
pub mod chat_export;
pub mod command;
pub mod diff;
pub mod format;
pub mod header;
pub mod history;
pub mod import;
pub mod intake;
pub mod llm_normalise;
pub mod llm_rows;
pub mod ocr;
pub mod pdf;
#[cfg(test)]
pub(crate) mod document_fixtures;
pub mod rows;
pub mod sheet;
pub mod template;
pub mod text_rows;
pub mod zip_limit;

pub use artefacts::{ArtefactError, ArtefactStore, LocalArtefacts};
pub use format::{Format, FormatError};
pub use llm_normalise::LlmSettings;
pub use rows::Extracted;

/// Where uploads are kept (`DOCUMENT_STORE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtefactBackend {
    /// Files under `INGESTION_STORAGE_DIR` (default `./data/storage`).
    Local { dir: std::path::PathBuf },
    /// Objects in the `S3_BUCKET` the image store uses.
    S3,
}

/// The settings of document imports (`DOCUMENT_MAX_BYTES`, the expansion cap, the default
/// currency, the store).
#[derive(Debug, Clone)]
pub struct DocumentSettings {
    /// The largest upload accepted, counted while it streams in (default 20 MiB).
    pub max_bytes: usize,
    /// The most a zip (a chat export) may expand to; past it the document fails (default 200 MiB).
    pub max_expanded_bytes: u64,
    /// The currency of prices without any marker when the vendor has no default of its own:
    /// `WHATSAPP_DEFAULT_CURRENCY`, the same fallback chat extraction uses.
    pub default_currency: String,
    /// Where uploaded documents are kept.
    pub artefacts: ArtefactBackend,
    /// The OCR program, on `PATH` or as a path (default `tesseract`).
    pub ocr_command: String,
    /// What turns a scanned PDF's pages into images for OCR (default `pdftoppm`).
    pub pdf_raster_command: String,
    /// How long one run of either may take (default 120 s).
    pub ocr_timeout: std::time::Duration,
    /// The language packs OCR reads with (`eng`, or `eng+swa`; default `eng`).
    pub ocr_languages: String,
    /// The OpenAI-compatible server `prefer_llm` imports use (QC's, when `QC_PROVIDER=openai`);
    /// `None` refuses `prefer_llm`.
    pub llm: Option<LlmSettings>,
}

impl DocumentSettings {
    pub const DEFAULT_MAX_BYTES: usize = 20 * 1024 * 1024;
    pub const DEFAULT_STORAGE_DIR: &'static str = "./data/storage";
    pub const DEFAULT_MAX_EXPANDED_BYTES: u64 = 200 * 1024 * 1024;
}

impl Default for DocumentSettings {
    fn default() -> Self {
        Self {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_expanded_bytes: Self::DEFAULT_MAX_EXPANDED_BYTES,
            default_currency: "KES".to_owned(),
            artefacts: ArtefactBackend::Local { dir: Self::DEFAULT_STORAGE_DIR.into() },
            ocr_command: "tesseract".to_owned(),
            pdf_raster_command: "pdftoppm".to_owned(),
            ocr_timeout: std::time::Duration::from_secs(120),
            ocr_languages: "eng".to_owned(),
            llm: None,
        }
    }
}

impl DocumentSettings {
    /// The OCR programs a processor runs.
    pub fn ocr_tools(&self) -> ocr::OcrTools<'_> {
        ocr::OcrTools {
            command: &self.ocr_command,
            raster_command: &self.pdf_raster_command,
            timeout: self.ocr_timeout,
            languages: &self.ocr_languages,
        }
    }
}

/// What a processor reads.
pub struct DocumentInput<'a> {
    pub bytes: &'a [u8],
    /// The vendor's default currency, else the settings' one.
    pub default_currency: &'a str,
    /// [`DocumentSettings::max_expanded_bytes`].
    pub max_expanded_bytes: u64,
    /// The programs OCR runs (images and scanned PDFs).
    pub ocr: ocr::OcrTools<'a>,
    /// Keep up to this many rows the rules cannot read, for LLM normalisation (0: none).
    pub keep_unread: usize,
}

/// Why a document could not be read as a whole (a single bad row is a `RowError` instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    #[error("{0}")]
    Corrupt(String),
    #[error("no sheet has a header row with a price and a description or SKU column")]
    NoHeader,
    /// A zip whose entries expand past [`DocumentSettings::max_expanded_bytes`].
    #[error("the archive expands past the limit of {0} bytes")]
    TooLarge(u64),
    /// A PDF or an image whose text has no line that reads as a priced item.
    #[error("no line of the text reads as an item with a price")]
    NoOffers,
    /// `tesseract` (or, for a scanned PDF, `pdftoppm`) is not installed.
    #[error("{0}")]
    OcrUnavailable(String),
    /// OCR ran but failed or outlasted its timeout.
    #[error("{0}")]
    OcrFailed(String),
}

impl ProcessError {
    /// A bounded label for logs and the document's `reason` prefix.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Corrupt(_) => "corrupt",
            Self::NoHeader => "no_header",
            Self::TooLarge(_) => "too_large",
            Self::NoOffers => "no_offers",
            Self::OcrUnavailable(_) => "ocr_unavailable",
            Self::OcrFailed(_) => "ocr_failed",
        }
    }
}

/// Reads one kind of document into rows.
pub trait Processor: Send + Sync {
    /// The name stored with the document and accepted as `processor`.
    fn name(&self) -> &'static str;
    /// Blocking work: run it off the async runtime.
    fn read(&self, input: &DocumentInput<'_>) -> Result<Extracted, ProcessError>;
}

/// Why no processor takes an upload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickError {
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(
        "unknown processor {0:?}: the known ones are \"spreadsheet\", \"chat_export\" (or \"whatsapp_text\"), \"pdf\" (or \"document_text\") and \"ocr\""
    )]
    UnknownProcessor(String),
    #[error("processor {processor:?} cannot read {what}")]
    Unsuited {
        processor: String,
        what: &'static str,
    },
}

/// The processor for `bytes` named `file_name`; `requested` (the client's `processor`) must name
/// one that can read it.
pub fn pick(
    file_name: &str,
    bytes: &[u8],
    requested: Option<&str>,
) -> Result<Box<dyn Processor>, PickError> {
    let requested = requested.map(str::trim).filter(|n| !n.is_empty());
    if let Some(name) = requested {
        if chat_export::is_named(name) {
            return Ok(Box::new(chat_export::ChatExport));
        }
        if !matches!(name, "spreadsheet" | "pdf" | "document_text" | "ocr") {
            return Err(PickError::UnknownProcessor(name.to_owned()));
        }
    }
    let format = format::detect(file_name, bytes)?;
    let what = match format {
        Format::Csv | Format::Tsv | Format::Workbook => "a spreadsheet",
        Format::ChatExport { .. } => "a chat export",
        Format::Pdf => "a PDF",
        Format::Image(_) => "an image",
    };
    Ok(match (requested, format) {
        (None, Format::ChatExport { .. }) => Box::new(chat_export::ChatExport),
        // Told to, the spreadsheet reader takes an export's text as CSV (and its zip as a
        // workbook, which then fails to open).
        (Some("spreadsheet"), Format::ChatExport { .. }) => Box::new(sheet::Spreadsheet {
            format: format.as_sheet(),
        }),
        (None | Some("spreadsheet"), Format::Csv | Format::Tsv | Format::Workbook) => {
            Box::new(sheet::Spreadsheet { format })
        }
        (None | Some("pdf" | "document_text"), Format::Pdf) => Box::new(pdf::PdfText),
        (Some("ocr"), Format::Pdf) => Box::new(ocr::Ocr {
            source: ocr::Source::Pdf,
        }),
        (None | Some("ocr"), Format::Image(image)) => Box::new(ocr::Ocr {
            source: ocr::Source::Image(image),
        }),
        (Some(name), _) => {
            return Err(PickError::Unsuited {
                processor: name.to_owned(),
                what,
            });
        }
    })
}

/// The processor's name and the media type, after checking that a workbook or PDF opens: a
/// corrupt or encrypted file, or a zip that expands past `max_expanded_bytes`, is refused here,
/// before anything is stored. Blocking for workbooks and PDFs.
pub fn probe(
    file_name: &str,
    bytes: &[u8],
    requested: Option<&str>,
    max_expanded_bytes: u64,
) -> Result<(&'static str, &'static str), ProbeError> {
    let processor = pick(file_name, bytes, requested)?;
    zip_limit::check(bytes, max_expanded_bytes).map_err(ProbeError::Unreadable)?;
    if processor.name() == chat_export::NAME {
        let media_type = chat_export::probe(bytes).map_err(ProbeError::Unreadable)?;
        return Ok((chat_export::NAME, media_type));
    }
    let format = format::detect(file_name, bytes)?.as_sheet();
    match format {
        Format::Workbook => sheet::open_check(bytes).map_err(ProbeError::Unreadable)?,
        Format::Pdf => pdf::open_check(bytes).map_err(ProbeError::Unreadable)?,
        _ => {}
    }
    Ok((processor.name(), format.media_type(file_name)))
}

/// Why an upload is refused before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Pick(#[from] PickError),
    #[error("{0}")]
    Unreadable(ProcessError),
}

impl From<FormatError> for ProbeError {
    fn from(error: FormatError) -> Self {
        Self::Pick(PickError::Format(error))
    }
}
