//! Validated identifiers: system code (系统标识码) and tid.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::ProtocolError;

/// A trading platform's system code (系统标识码, `tradingSystemCode`, `platformCode`):
/// one upper-case letter then 10 digits, e.g. `C1100005553`, assigned nationally.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SystemCode(String);

impl SystemCode {
    /// Parses a system code; anything but `[A-Z][0-9]{10}` is refused.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let b = s.as_bytes();
        let ok = b.len() == 11
            && b.first().is_some_and(u8::is_ascii_uppercase)
            && b.get(1..).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(ProtocolError::InvalidSystemCode {
                value: super::echo(s),
            })
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SystemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SystemCode {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for SystemCode {
    type Error = ProtocolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SystemCode> for String {
    fn from(s: SystemCode) -> Self {
        s.0
    }
}

impl JsonSchema for SystemCode {
    fn schema_name() -> Cow<'static, str> {
        "SystemCode".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[A-Z][0-9]{10}$",
            "description": "System code (系统标识码) of a trading platform: one upper-case letter and 10 digits, e.g. C1100005553."
        })
    }
}

/// A transaction id (`tid`, `TId` in the predecessor scheme): the platform's system code
/// followed by 32 lower-case hex digits (128 random bits), 43 characters,
/// e.g. `M1100005105bf032b4ee8b94a6cb5e162737c507307`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tid(String);

impl Tid {
    /// A tid for `system_code` with 16 random bytes.
    pub fn new(system_code: &SystemCode, random: [u8; 16]) -> Self {
        Self(format!(
            "{}{}",
            system_code.as_str(),
            data_encoding::HEXLOWER.encode(&random)
        ))
    }

    /// Parses a tid; anything but `[A-Z][0-9]{10}[0-9a-f]{32}` is refused.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let ok = s.len() == 43
            && s.get(..11).is_some_and(|c| SystemCode::parse(c).is_ok())
            && s.as_bytes().get(11..).is_some_and(|h| {
                h.iter()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            });
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(ProtocolError::InvalidTid {
                value: super::echo(s),
            })
        }
    }

    /// The platform's system code.
    pub fn system_code(&self) -> SystemCode {
        SystemCode(self.0.get(..11).unwrap_or_default().to_string())
    }

    /// The tid as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Tid {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Tid {
    type Error = ProtocolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Tid> for String {
    fn from(t: Tid) -> Self {
        t.0
    }
}

impl JsonSchema for Tid {
    fn schema_name() -> Cow<'static, str> {
        "Tid".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[A-Z][0-9]{10}[0-9a-f]{32}$",
            "description": "Transaction id: the platform's system code followed by 32 lower-case hex digits."
        })
    }
}
