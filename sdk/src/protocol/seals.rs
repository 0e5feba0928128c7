//! The user's seals (印章) as the CA vendor keeps them: what an adapter's `list_seals` answers
//! (a JSON array of [`SealInfo`]) and what the platform shows for the user to pick from.
//!
//! The kinds are those of the CA apps' manuals (公章, 法人章, 财务专用章, 合同专用章, 人名章,
//! 手写签名); a platform may require a set of them for a document (e.g. the company seal and
//! the legal representative's seal).

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Bytes, ProtocolError};

/// The kind of a seal, on the wire `official`, `legalRepresentative`, `finance`, `contract`,
/// `personalName`, `handwritten`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum SealKind {
    /// 公章: the organisation's official seal.
    Official,
    /// 法人章: the legal representative's seal.
    LegalRepresentative,
    /// 财务专用章: the finance seal.
    Finance,
    /// 合同专用章: the contract seal.
    Contract,
    /// 人名章: a person's name seal.
    PersonalName,
    /// 手写签名: a handwritten signature.
    Handwritten,
}

impl SealKind {
    /// All six, in this order.
    pub const ALL: [SealKind; 6] = [
        Self::Official,
        Self::LegalRepresentative,
        Self::Finance,
        Self::Contract,
        Self::PersonalName,
        Self::Handwritten,
    ];

    /// The Chinese name, e.g. `公章`.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Official => "公章",
            Self::LegalRepresentative => "法人章",
            Self::Finance => "财务专用章",
            Self::Contract => "合同专用章",
            Self::PersonalName => "人名章",
            Self::Handwritten => "手写签名",
        }
    }

    /// The wire name, e.g. `legalRepresentative`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Official => "official",
            Self::LegalRepresentative => "legalRepresentative",
            Self::Finance => "finance",
            Self::Contract => "contract",
            Self::PersonalName => "personalName",
            Self::Handwritten => "handwritten",
        }
    }
}

impl fmt::Display for SealKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not a seal kind's wire name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "seal kind must be one of official, legalRepresentative, finance, contract, personalName, handwritten; got `{value}`"
)]
pub struct UnknownSealKind {
    /// The value given (shortened).
    pub value: String,
}

impl FromStr for SealKind {
    type Err = UnknownSealKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownSealKind {
                value: super::echo(s),
            })
    }
}

/// Longest seal code, in characters.
pub const MAX_SEAL_CODE: usize = 64;
/// Longest seal name, in characters.
pub const MAX_SEAL_NAME: usize = 128;
/// Largest seal image, in bytes (1 MiB).
pub const MAX_SEAL_IMAGE_BYTES: usize = 1024 * 1024;
/// Smallest printed side of a seal, in millimetres.
pub const MIN_SEAL_MM: u32 = 5;
/// Largest printed side of a seal, in millimetres.
pub const MAX_SEAL_MM: u32 = 100;
/// Longest certificate serial, in hex digits (20 bytes, RFC 5280).
const MAX_CERT_SN: usize = 64;

/// One seal of a user, as the CA vendor keeps it (印章): its code, kind, name, image and
/// printed size, and the signing certificate it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealInfo {
    /// The vendor's code of the seal (印章编码): 1–64 printable ASCII characters, no spaces.
    pub code: String,
    /// The kind.
    pub kind: SealKind,
    /// A name for people, e.g. `某某建设有限公司公章` (1–128 characters).
    pub name: String,
    /// The seal image: PNG, transparent background, at most 1 MiB.
    pub image: Bytes,
    /// Printed width, millimetres (5–100).
    pub width_mm: u32,
    /// Printed height, millimetres (5–100).
    pub height_mm: u32,
    /// Serial (upper-case hex, `certSn`) of the signing certificate the seal is used with.
    pub cert_sn: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ProtocolError {
    ProtocolError::InvalidField {
        field,
        reason: reason.into(),
    }
}

impl SealInfo {
    /// Checks what a vendor answered: the code (1–64 printable ASCII characters, no spaces),
    /// the name (1–128 characters), the image (a PNG of at most 1 MiB that decodes), the
    /// printed size (5–100 mm per side) and the certificate serial (1–64 hex digits).
    /// The error names the field and says what is wrong (`INPUT_MALFORMED`).
    pub fn check(&self) -> Result<(), ProtocolError> {
        let code_len = self.code.len();
        if !(1..=MAX_SEAL_CODE).contains(&code_len)
            || !self.code.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(invalid(
                "code",
                format!(
                    "a seal code is 1–{MAX_SEAL_CODE} printable ASCII characters without spaces; got `{}`",
                    super::echo(&self.code)
                ),
            ));
        }
        let name_len = self.name.chars().count();
        if self.name.trim().is_empty() || name_len > MAX_SEAL_NAME {
            return Err(invalid(
                "name",
                format!(
                    "the seal `{}` needs a name of 1–{MAX_SEAL_NAME} characters (it has {name_len})",
                    self.code
                ),
            ));
        }
        if self.image.len() > MAX_SEAL_IMAGE_BYTES {
            return Err(invalid(
                "image",
                format!(
                    "the image of seal `{}` has {} bytes; at most {MAX_SEAL_IMAGE_BYTES}",
                    self.code,
                    self.image.len()
                ),
            ));
        }
        decode_png(&self.image).map_err(|why| {
            invalid(
                "image",
                format!("the image of seal `{}` is unusable: {why}", self.code),
            )
        })?;
        for (field, mm) in [("widthMm", self.width_mm), ("heightMm", self.height_mm)] {
            if !(MIN_SEAL_MM..=MAX_SEAL_MM).contains(&mm) {
                return Err(invalid(
                    field,
                    format!(
                        "seal `{}` is {mm} mm; a seal is {MIN_SEAL_MM}–{MAX_SEAL_MM} mm per side",
                        self.code
                    ),
                ));
            }
        }
        if !(1..=MAX_CERT_SN).contains(&self.cert_sn.len())
            || !self.cert_sn.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(invalid(
                "certSn",
                format!(
                    "the certificate serial of seal `{}` must be 1–{MAX_CERT_SN} hex digits; got `{}`",
                    self.code,
                    super::echo(&self.cert_sn)
                ),
            ));
        }
        Ok(())
    }
}

/// Largest side of a seal image, pixels (the PDF seal code's limit too).
pub const MAX_SEAL_IMAGE_SIDE: u32 = 4096;

/// Decodes the PNG and checks its size as the PDF seal code will (so a seal that passes can
/// be applied).
fn decode_png(png: &[u8]) -> Result<(), String> {
    let decoded = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|e| format!("the seal image is not a readable PNG ({e})"))?;
    let (w, h) = (decoded.width(), decoded.height());
    if w == 0 || h == 0 || w > MAX_SEAL_IMAGE_SIDE || h > MAX_SEAL_IMAGE_SIDE {
        return Err(format!(
            "the seal image is {w}×{h} pixels; 1 to {MAX_SEAL_IMAGE_SIDE} per side"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn png() -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(64, 64, image::Rgba([200, 0, 0, 255]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn seal() -> SealInfo {
        SealInfo {
            code: "SOFTCA-official-0a1b2c3d".into(),
            kind: SealKind::Official,
            name: "某某建设有限公司公章".into(),
            image: Bytes(png()),
            width_mm: 40,
            height_mm: 40,
            cert_sn: "7F3A01".into(),
        }
    }

    #[test]
    fn kinds_round_trip_through_their_wire_names() {
        for kind in SealKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.as_str().parse::<SealKind>().unwrap(), kind);
            assert!(!kind.label_zh().is_empty());
        }
        assert_eq!(SealKind::LegalRepresentative.label_zh(), "法人章");
        assert_eq!(SealKind::Finance.label_zh(), "财务专用章");
        let e = "Official".parse::<SealKind>().unwrap_err();
        assert!(e.to_string().contains("legalRepresentative"), "{e}");
        assert!(serde_json::from_str::<SealKind>("\"stamp\"").is_err());
    }

    #[test]
    fn a_vendors_seal_passes_its_check_and_round_trips() {
        let s = seal();
        s.check().unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["kind"], "official");
        assert_eq!(json["widthMm"], 40);
        assert_eq!(json["certSn"], "7F3A01");
        assert_eq!(serde_json::from_value::<SealInfo>(json).unwrap(), s);
    }

    #[test]
    fn bad_seals_are_refused_naming_the_field() {
        let cases: Vec<(&str, SealInfo)> = vec![
            (
                "code",
                SealInfo {
                    code: String::new(),
                    ..seal()
                },
            ),
            (
                "code",
                SealInfo {
                    code: "a b".into(),
                    ..seal()
                },
            ),
            (
                "code",
                SealInfo {
                    code: "章".into(),
                    ..seal()
                },
            ),
            (
                "code",
                SealInfo {
                    code: "x".repeat(65),
                    ..seal()
                },
            ),
            (
                "name",
                SealInfo {
                    name: " ".into(),
                    ..seal()
                },
            ),
            (
                "name",
                SealInfo {
                    name: "名".repeat(129),
                    ..seal()
                },
            ),
            (
                "image",
                SealInfo {
                    image: Bytes(b"not a png".to_vec()),
                    ..seal()
                },
            ),
            (
                "image",
                SealInfo {
                    image: Bytes(Vec::new()),
                    ..seal()
                },
            ),
            (
                "image",
                SealInfo {
                    image: Bytes(vec![0; MAX_SEAL_IMAGE_BYTES + 1]),
                    ..seal()
                },
            ),
            (
                "widthMm",
                SealInfo {
                    width_mm: 4,
                    ..seal()
                },
            ),
            (
                "heightMm",
                SealInfo {
                    height_mm: 101,
                    ..seal()
                },
            ),
            (
                "certSn",
                SealInfo {
                    cert_sn: String::new(),
                    ..seal()
                },
            ),
            (
                "certSn",
                SealInfo {
                    cert_sn: "XYZ".into(),
                    ..seal()
                },
            ),
        ];
        for (field, s) in cases {
            let e = s.check().unwrap_err();
            assert!(
                matches!(&e, ProtocolError::InvalidField { field: f, .. } if *f == field),
                "{field}: {e:?}"
            );
            assert_eq!(e.code(), super::super::ErrorCode::InputMalformed);
        }
        // Edges that pass.
        SealInfo {
            code: "x".repeat(64),
            width_mm: 5,
            height_mm: 100,
            ..seal()
        }
        .check()
        .unwrap();
        SealInfo {
            name: "名".repeat(128),
            ..seal()
        }
        .check()
        .unwrap();
    }
}
