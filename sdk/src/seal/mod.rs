//! Document seals (签章) on PDF files: prepare a signature field with a visible seal as an
//! incremental update, compute the byte-range digest, embed the detached CMS / GM/T 0010
//! signature, and verify every seal of a document (`docs/pdf.md`).
//!
//! The flow is hash-first, as the CSC remote-signing API: the platform calls [`prepare`]
//! (the PDF with an empty `/Contents` placeholder and the digest over the byte ranges), then
//! [`signed_attributes`] (the DER the signer signs), lets the signer sign those bytes (the
//! wallet in the CLI, the mobile app later), and finishes with [`assemble_cms`] and
//! [`embed`]. [`sign_prepared`] runs the three steps with a signing callback, and
//! [`seal_with_key`] does everything with a local key.
//!
//! Earlier bytes are never rewritten (`lopdf::IncrementalDocument`), so earlier seals stay
//! valid; [`verify`] reports whether a later revision changed more than annotations, form
//! fields and signatures.

pub mod appearance;
mod budget;
mod changes;
mod cms;
pub mod flow;
pub mod locate;
mod pdf;
mod report;
mod sign;
mod text;
mod verify;

#[cfg(test)]
mod tests;

pub use budget::MAX_TOKENS;
pub use cms::{assemble_cms, sign_prepared, signed_attributes};
pub use report::{PdfReport, Revocation, SealReport, SealWidget};
pub use sign::{embed, prepare, prepare_revoke, revoke_with_key, seal_with_key};
pub use verify::{may_revoke, signer_of, verify, verify_with_authorities, verify_with_records};

use crate::crypto::{CryptoError, HashAlgorithm, PublicKeyAlgorithm};
use crate::envelope::EnvelopeError;
use crate::pki::CertError;
use crate::protocol::ErrorCode;

/// Bytes reserved for the CMS in `/Contents` by default (the hex string is twice as long).
pub const DEFAULT_RESERVED: usize = 16 * 1024;

/// Largest PDF read into memory, in bytes.
pub const MAX_PDF: usize = 512 * 1024 * 1024;

/// Where the seal goes. Rectangles are `[x, y, width, height]` in PDF points (1/72 inch)
/// from the page's lower-left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// One page (1-based) at a rectangle.
    Page {
        /// Page number, 1-based.
        page: u32,
        /// `[x, y, width, height]` in points.
        rect: [f32; 4],
    },
    /// The same rectangle on every page: one signature, one field, one widget per page.
    /// The rectangle is taken from each page's visible box as the reader sees it
    /// ([`locate::every_page_rects`]).
    EveryPage {
        /// `[x, y, width, height]` in points.
        rect: [f32; 4],
    },
    /// The same rectangle on the selected pages (多页签章): one signature, one field, one
    /// widget on each page named (1-based, each once). As with [`Placement::EveryPage`], the
    /// rectangle is taken from each page's visible box as the reader sees it — what a page
    /// preview shows, so a seal dragged onto a preview lands where it was dropped.
    Pages {
        /// Page numbers, 1-based.
        pages: Vec<u32>,
        /// `[x, y, width, height]` in points.
        rect: [f32; 4],
    },
    /// A straddle seal (骑缝章) across the right edges of pages `from..=to`: one signature,
    /// slice i of the seal on the i-th page ([`locate::straddle_rects`]).
    Straddle {
        /// First page, 1-based.
        from: u32,
        /// Last page, 1-based (after `from`).
        to: u32,
        /// Width of the whole seal in points (each page shows `width / pages`).
        width: f32,
        /// Height in points.
        height: f32,
        /// Bottom edge, points above the visible box's bottom.
        y: f32,
    },
    /// A seal centred on every occurrence of a keyword (关键字签章): one signature, one
    /// widget per occurrence; a keyword that does not occur is an error naming it.
    Keyword {
        /// The text to find.
        keyword: String,
        /// Width in points.
        width: f32,
        /// Height in points.
        height: f32,
    },
    /// No visible seal: one hidden widget of size zero on page 1 (a revocation, 撤章, is
    /// signed this way).
    Invisible,
}

impl Placement {
    /// The placement from command-line or query options, as `camr pdf seal` and the
    /// reference server take them: `straddle` `FROM-TO` (bottom edge `y`, default 100), else
    /// `keyword`, else `page` with `x`, `y` (not with `every_page`), else every page at
    /// `x`, `y`. `width` is the seal's width and height in points.
    pub fn from_options(
        page: Option<u32>,
        every_page: bool,
        straddle: Option<&str>,
        keyword: Option<&str>,
        x: Option<f32>,
        y: Option<f32>,
        width: f32,
    ) -> Result<Self, SealError> {
        if let Some(range) = straddle {
            let parsed = range
                .split_once('-')
                .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
            let Some((from, to)) = parsed else {
                return Err(SealError::invalid(format!(
                    "straddle wants FROM-TO page numbers, e.g. 1-5, not `{}`",
                    crate::crypto::truncate(range, 40)
                )));
            };
            return Ok(Self::Straddle {
                from,
                to,
                width,
                height: width,
                y: y.unwrap_or(100.0),
            });
        }
        if let Some(keyword) = keyword {
            return Ok(Self::Keyword {
                keyword: keyword.to_string(),
                width,
                height: width,
            });
        }
        let rect = [x.unwrap_or(0.0), y.unwrap_or(0.0), width, width];
        match page {
            Some(page) if !every_page => {
                if x.is_none() || y.is_none() {
                    return Err(SealError::invalid("a seal on a page needs x and y"));
                }
                Ok(Self::Page { page, rect })
            }
            _ if every_page || x.is_some() || y.is_some() => Ok(Self::EveryPage { rect }),
            _ => Err(SealError::invalid(
                "say where the seal goes: a page with x and y, every page, a straddle range or a keyword",
            )),
        }
    }
}

/// The size of one page as a reader sees it (its visible box, turned by `/Rotate`): what a
/// page preview shows, and the space [`Placement::Pages`] rectangles live in.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PageSize {
    /// 1-based page number.
    pub number: u32,
    /// Width in points.
    pub width: f32,
    /// Height in points.
    pub height: f32,
}

/// Where a keyword seal (关键字签章) of `w`×`h` points would go on `pdf`: the document read as
/// for sealing (size, budget and encryption checks), then [`locate::keyword_rects`]. What the
/// seal-placement code runs on an upload, without a key (for previews and the fuzz target).
pub fn locate_keyword(
    pdf: &[u8],
    keyword: &str,
    w: f32,
    h: f32,
) -> Result<Vec<(u32, [f32; 4])>, SealError> {
    locate::keyword_rects(&pdf::load(pdf)?, keyword, w, h)
}

/// The pages of a PDF with their sizes as a reader sees them (for a page preview).
pub fn page_sizes(pdf: &[u8]) -> Result<Vec<PageSize>, SealError> {
    let doc = pdf::load(pdf)?;
    Ok(locate::pages(&doc)?
        .iter()
        .map(|g| PageSize {
            number: g.number,
            width: g.display_width(),
            height: g.display_height(),
        })
        .collect())
}

/// What [`prepare`] writes besides the placement.
#[derive(Debug, Clone, PartialEq)]
pub struct SealOptions {
    /// Where the seal goes.
    pub placement: Placement,
    /// `/Reason` of the signature dictionary.
    pub reason: Option<String>,
    /// Field name (`/T`); `SealN` with the first free N when absent.
    pub field_name: Option<String>,
    /// `/M`, Unix seconds (now when `None`).
    pub signing_time: Option<i64>,
    /// Bytes reserved for the CMS ([`DEFAULT_RESERVED`] when 0).
    pub reserved: usize,
    /// The seal image (with transparency). [`prepare`] draws a plain red ring when absent;
    /// [`seal_with_key`] draws the default round seal of the signer's organisation or name
    /// ([`appearance::default_seal`]).
    pub image: Option<appearance::SealImage>,
}

impl SealOptions {
    /// A seal at `placement` with the defaults.
    pub fn new(placement: Placement) -> Self {
        Self {
            placement,
            reason: None,
            field_name: None,
            signing_time: None,
            reserved: 0,
            image: None,
        }
    }
}

/// A PDF with an empty signature, ready for the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedPdf {
    /// The whole file: the original bytes, then the new revision.
    pub bytes: Vec<u8>,
    /// `/ByteRange` as written: `[0, a, b, len - b]`; `a..b` is the `<…>` of `/Contents`.
    pub byte_range: [usize; 4],
    /// The two ranges that are hashed, as `start..end` pairs.
    pub digest_input_ranges: [(usize, usize); 2],
    /// SM3 (SM2 signers) or SHA-256 over the ranges.
    pub digest: Vec<u8>,
    /// Which hash [`PreparedPdf::digest`] is.
    pub hash: HashAlgorithm,
    /// The signer's key algorithm this was prepared for.
    pub key_algorithm: PublicKeyAlgorithm,
    /// The signature field's name.
    pub field_name: String,
}

impl PreparedPdf {
    /// Room for the CMS, in bytes.
    pub fn reserved(&self) -> usize {
        (self.byte_range[2] - self.byte_range[1]).saturating_sub(2) / 2
    }
}

/// Why a PDF could not be sealed or read.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Not a PDF camr can read (truncated, no pages, damaged cross-references, ...).
    #[error("the PDF is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The PDF is encrypted; camr seals only unencrypted files.
    #[error("the PDF is encrypted; decrypt it first (sealing encrypted PDFs is not supported)")]
    Encrypted,
    /// A certifying signature forbids changes (DocMDP P=1).
    #[error("the PDF is certified with no changes allowed (DocMDP P=1)")]
    Locked,
    /// The revoker is neither the seal's signer nor a configured authority (撤章).
    #[error(
        "{revoker} may not revoke seal `{field}`, signed by {signer}: only its signer or a configured authority may"
    )]
    RevokeDenied {
        /// The seal.
        field: String,
        /// Its signer's name.
        signer: String,
        /// The revoker's name.
        revoker: String,
    },
    /// A bad argument (page out of range, empty rectangle, ...).
    #[error("{reason}")]
    InvalidArgument {
        /// What is wrong.
        reason: String,
    },
    /// The signature does not fit the space reserved for it.
    #[error("the signature ({size} bytes) does not fit the {reserved} bytes reserved in /Contents")]
    SignatureTooLarge {
        /// DER size of the CMS.
        size: usize,
        /// Bytes reserved.
        reserved: usize,
    },
    /// Building or reading the CMS failed.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The signer certificate was refused.
    #[error(transparent)]
    Cert(#[from] CertError),
}

impl SealError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Malformed { .. } => ErrorCode::PdfMalformed,
            Self::Encrypted => ErrorCode::PdfEncrypted,
            Self::Locked => ErrorCode::PdfLocked,
            Self::RevokeDenied { .. } => ErrorCode::PdfRevokeDenied,
            Self::InvalidArgument { .. } => ErrorCode::InputMalformed,
            Self::SignatureTooLarge { .. } => ErrorCode::PdfSignatureTooLarge,
            Self::Envelope(e) => e.code(),
            Self::Crypto(e) => e.code(),
            Self::Cert(e) => e.code(),
        }
    }

    pub(crate) fn malformed(reason: impl std::fmt::Display) -> Self {
        Self::Malformed {
            reason: crate::crypto::truncate(&reason.to_string(), 200),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            reason: reason.into(),
        }
    }
}

/// The hash of the byte-range digest for a signer key: SM3 for SM2, SHA-256 otherwise.
pub fn hash_for(key: PublicKeyAlgorithm) -> HashAlgorithm {
    crate::envelope::digest_for(key)
}

/// `/SubFilter`: `ETSI.CAdES.detached` for SM2, `adbe.pkcs7.detached` for RSA and ECDSA.
pub fn sub_filter_for(key: PublicKeyAlgorithm) -> &'static str {
    match key {
        PublicKeyAlgorithm::Sm2 => "ETSI.CAdES.detached",
        PublicKeyAlgorithm::Rsa | PublicKeyAlgorithm::EcdsaP256 => "adbe.pkcs7.detached",
    }
}

/// A small unsigned PDF with `pages` A4 pages of text ("camr test page N"), written from
/// scratch with a classic cross-reference table: input for tests, examples and demos.
pub fn sample_pdf(pages: u32) -> Result<Vec<u8>, SealError> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.7");
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let mut kids = Vec::new();
    for n in 1..=pages {
        let text = format!("BT /F1 24 Tf 72 760 Td (camr test page {n}) Tj ET\n");
        let content = doc.add_object(Stream::new(dictionary! {}, text.into_bytes()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => content,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        });
        kids.push(Object::Reference(page));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => i64::from(pages),
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(SealError::malformed)?;
    Ok(out)
}
