//! Identity documents (证件类型) a certificate may name its holder by: the resident identity
//! card and the documents the CA apps accept besides it ("身份证、港澳台居民居住证、港澳居民来往
//! 内地通行证（回乡证）、台湾居民来往内地通行证（台胞证）、外国人永久居留身份证（中国绿卡）、
//! 华侨护照、外国护照").
//!
//! In a certificate the document is the subject's `serialNumber` attribute (X.520,
//! PrintableString), written as ETSI EN 319 412-1 (5.1.3) natural-person semantics
//! identifiers where one exists, so other profiles can read it:
//!
//! | document | `serialNumber` |
//! |---|---|
//! | resident identity card (居民身份证) | the 18 characters as they are (what Chinese CAs write), or `IDCCN-…` |
//! | residence permit for HK, Macao and Taiwan residents (港澳台居民居住证) | the 18 characters (they start with 810000, 820000 or 830000), or `IDCCN-…` |
//! | passport (护照) | `PAS` + issuing country (ISO 3166-1 alpha-2) + `-` + number, e.g. `PASCN-E12345678` |
//! | Mainland travel permit for HK and Macao residents (港澳居民来往内地通行证) | `CN:HKMO-H12345678` |
//! | Mainland travel permit for Taiwan residents (台湾居民来往大陆通行证) | `CN:TW-12345678` |
//! | foreign permanent residence card (外国人永久居留身份证) | `CN:FPR-…` |
//!
//! The `CN:` forms are ETSI's "local definition" identifiers (two letters of the country, a
//! colon, then the national scheme).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::protocol::ErrorCode;

/// The kind of identity document (证件类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IdentityType {
    /// Resident identity card (居民身份证): 18 characters, GB 11643 check character.
    ResidentIdCard,
    /// Residence permit for Hong Kong, Macao and Taiwan residents (港澳台居民居住证): 18
    /// characters like the identity card, area code 810000 (HK), 820000 (Macao) or 830000
    /// (Taiwan).
    ResidencePermit,
    /// Mainland travel permit for Hong Kong and Macao residents (港澳居民来往内地通行证, 回乡证):
    /// `H` or `M` and 8 digits (10 on the older booklets).
    HkMacaoTravelPermit,
    /// Mainland travel permit for Taiwan residents (台湾居民来往大陆通行证, 台胞证): 8 digits
    /// (10 on the older booklets).
    TaiwanTravelPermit,
    /// Foreign permanent residence card (外国人永久居留身份证, 中国绿卡): 3 letters and 12 digits
    /// (2017 card) or 18 characters starting with 9 with the GB 11643 check character (2023
    /// card).
    ForeignPermanentResidenceCard,
    /// Passport (护照: 华侨护照, 外国护照), with its issuing country.
    Passport,
}

impl IdentityType {
    /// The Chinese name of the document.
    pub fn chinese_name(self) -> &'static str {
        match self {
            Self::ResidentIdCard => "居民身份证",
            Self::ResidencePermit => "港澳台居民居住证",
            Self::HkMacaoTravelPermit => "港澳居民来往内地通行证",
            Self::TaiwanTravelPermit => "台湾居民来往大陆通行证",
            Self::ForeignPermanentResidenceCard => "外国人永久居留身份证",
            Self::Passport => "护照",
        }
    }

    /// The command-line name (`camr ca issue --id-type`).
    pub fn parse_name(name: &str) -> Result<Self, IdentityError> {
        Ok(match name {
            "id" | "idcard" | "residentIdCard" => Self::ResidentIdCard,
            "residence" | "residencePermit" => Self::ResidencePermit,
            "hkmo" | "hkMacaoTravelPermit" => Self::HkMacaoTravelPermit,
            "tw" | "taiwanTravelPermit" => Self::TaiwanTravelPermit,
            "fpr" | "foreignPermanentResidenceCard" => Self::ForeignPermanentResidenceCard,
            "passport" => Self::Passport,
            other => {
                return Err(IdentityError::new(format!(
                    "unknown identity document type `{}` (id, residence, hkmo, tw, fpr or passport)",
                    crate::crypto::truncate(other, 40)
                )));
            }
        })
    }
}

/// An identity number that does not fit its document type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdentityError(String);

impl IdentityError {
    fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }

    /// The stable error code (`INPUT_MALFORMED`).
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InputMalformed
    }
}

/// An identity document: its type, number and (passports) issuing country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityDocument {
    /// The document type.
    pub id_type: IdentityType,
    /// The number, upper case.
    pub number: String,
    /// Issuing country, ISO 3166-1 alpha-2 (passports only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl IdentityDocument {
    /// A document of a type without a country (every type but [`IdentityType::Passport`]);
    /// the number must fit the type's format.
    pub fn new(id_type: IdentityType, number: &str) -> Result<Self, IdentityError> {
        if id_type == IdentityType::Passport {
            return Err(IdentityError::new(
                "a passport needs its issuing country: use IdentityDocument::passport",
            ));
        }
        let number = number.trim().to_ascii_uppercase();
        check_number(id_type, &number, None)?;
        Ok(Self {
            id_type,
            number,
            country: None,
        })
    }

    /// A resident identity card (居民身份证).
    pub fn resident_id(number: &str) -> Result<Self, IdentityError> {
        Self::new(IdentityType::ResidentIdCard, number)
    }

    /// A passport issued by `country` (ISO 3166-1 alpha-2, e.g. `CN` for a 华侨护照).
    pub fn passport(country: &str, number: &str) -> Result<Self, IdentityError> {
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(IdentityError::new(format!(
                "`{}` is not an ISO 3166-1 alpha-2 country code (two letters, e.g. CN, GB)",
                crate::crypto::truncate(&country, 8)
            )));
        }
        let number = number.trim().to_ascii_uppercase();
        check_number(IdentityType::Passport, &number, Some(&country))?;
        Ok(Self {
            id_type: IdentityType::Passport,
            number,
            country: Some(country),
        })
    }

    /// The certificate's `serialNumber` text for this document (see the module table).
    pub fn to_attribute(&self) -> String {
        match self.id_type {
            IdentityType::ResidentIdCard | IdentityType::ResidencePermit => self.number.clone(),
            IdentityType::Passport => format!(
                "PAS{}-{}",
                self.country.as_deref().unwrap_or("XX"),
                self.number
            ),
            IdentityType::HkMacaoTravelPermit => format!("CN:HKMO-{}", self.number),
            IdentityType::TaiwanTravelPermit => format!("CN:TW-{}", self.number),
            IdentityType::ForeignPermanentResidenceCard => format!("CN:FPR-{}", self.number),
        }
    }

    /// Reads a certificate's `serialNumber` text. A bare 18-character number is a resident
    /// identity card, or a residence permit when its area code says so.
    pub fn from_attribute(text: &str) -> Result<Self, IdentityError> {
        let text = text.trim();
        if let Some(n) = text.strip_prefix("CN:HKMO-") {
            return Self::new(IdentityType::HkMacaoTravelPermit, n);
        }
        if let Some(n) = text.strip_prefix("CN:TW-") {
            return Self::new(IdentityType::TaiwanTravelPermit, n);
        }
        if let Some(n) = text.strip_prefix("CN:FPR-") {
            return Self::new(IdentityType::ForeignPermanentResidenceCard, n);
        }
        if let Some(rest) = text.strip_prefix("PAS")
            && let Some((country, n)) = rest.split_once('-')
        {
            return Self::passport(country, n);
        }
        let bare = text.strip_prefix("IDCCN-").unwrap_or(text);
        let id_type = if ["810000", "820000", "830000"]
            .iter()
            .any(|p| bare.starts_with(p))
        {
            IdentityType::ResidencePermit
        } else {
            IdentityType::ResidentIdCard
        };
        Self::new(id_type, bare)
    }
}

fn bad(id_type: IdentityType, number: &str, rule: &str) -> IdentityError {
    IdentityError::new(format!(
        "`{}` is not a {} number ({}): {rule}",
        crate::crypto::truncate(number, 24),
        id_type.chinese_name(),
        serde_json::to_value(id_type)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    ))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// GB 11643-1999: 17 digits, then the check character (ISO 7064 MOD 11-2; 10 is `X`), with a
/// real birth date at positions 7–14.
fn check_gb11643(number: &str) -> Result<(), &'static str> {
    let b = number.as_bytes();
    if b.len() != 18 {
        return Err("18 characters are needed");
    }
    let (body, check) = b.split_at(17);
    if !body.iter().all(u8::is_ascii_digit) {
        return Err("the first 17 characters must be digits");
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = b"10X98765432".get((sum % 11) as usize);
    if check.first() != expected {
        return Err("the check character (the 18th) is wrong");
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        body.get(r)
            .map(|s| s.iter().fold(0, |a, d| a * 10 + u32::from(d - b'0')))
            .unwrap_or(0)
    };
    let (year, month, day) = (num(6..10), num(10..12), num(12..14));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if !(1900..=2100).contains(&year) || day == 0 || day > days {
        return Err("positions 7 to 14 are not a birth date");
    }
    Ok(())
}

fn check_number(
    id_type: IdentityType,
    number: &str,
    country: Option<&str>,
) -> Result<(), IdentityError> {
    let fail = |rule: &str| bad(id_type, number, rule);
    let b = number.as_bytes();
    match id_type {
        IdentityType::ResidentIdCard => {
            check_gb11643(number).map_err(fail)?;
            if !matches!(b.first(), Some(b'1'..=b'6')) {
                return Err(fail("the area code must start with 1 to 6"));
            }
        }
        IdentityType::ResidencePermit => {
            check_gb11643(number).map_err(fail)?;
            if !["810000", "820000", "830000"]
                .iter()
                .any(|p| number.starts_with(p))
            {
                return Err(fail(
                    "the area code must be 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan)",
                ));
            }
        }
        IdentityType::HkMacaoTravelPermit => {
            let ok = matches!(b.first(), Some(b'H' | b'M'))
                && number
                    .get(1..)
                    .is_some_and(|d| all_digits(d) && matches!(d.len(), 8 | 10));
            if !ok {
                return Err(fail("`H` or `M` followed by 8 (or 10) digits"));
            }
        }
        IdentityType::TaiwanTravelPermit => {
            if !(all_digits(number) && matches!(b.len(), 8 | 10)) {
                return Err(fail("8 (or 10) digits"));
            }
        }
        IdentityType::ForeignPermanentResidenceCard => {
            let card_2017 = b.len() == 15
                && b.iter().take(3).all(u8::is_ascii_uppercase)
                && number.get(3..).is_some_and(all_digits);
            let card_2023 = b.first() == Some(&b'9') && check_gb11643(number).is_ok();
            if !(card_2017 || card_2023) {
                return Err(fail(
                    "3 letters and 12 digits (2017 card), or 18 characters starting with 9 with a valid check character (2023 card)",
                ));
            }
        }
        IdentityType::Passport => {
            let alnum = !b.is_empty() && b.iter().all(|c| c.is_ascii_alphanumeric());
            if !alnum || !(5..=17).contains(&b.len()) {
                return Err(fail("5 to 17 letters and digits"));
            }
            // People's Republic of China passports: ordinary E + 8 digits or E + letter + 7
            // digits (G + 8 digits on older ones); diplomatic, service and public-affairs
            // passports D, S, P (or DE, SE, PE) + 7 digits.
            if country == Some("CN") {
                let tail_digits = |from: usize| number.get(from..).is_some_and(all_digits);
                let ordinary = b.len() == 9
                    && matches!(b.first(), Some(b'E' | b'G'))
                    && (tail_digits(1)
                        || (b
                            .get(1)
                            .is_some_and(|c| c.is_ascii_uppercase() && *c != b'I' && *c != b'O')
                            && tail_digits(2)));
                let official = matches!(b.first(), Some(b'D' | b'S' | b'P'))
                    && ((b.len() == 8 && tail_digits(1))
                        || (b.len() == 9 && b.get(1) == Some(&b'E') && tail_digits(2)));
                if !(ordinary || official) {
                    return Err(fail(
                        "a Chinese passport is E (or G) and 8 characters (a letter then 7 digits, or 8 digits), or D, S, P (DE, SE, PE) and 7 digits",
                    ));
                }
            }
        }
    }
    Ok(())
}
