//! A setting's value as one source gives it (TOML in the file, text in the environment or on
//! the command line), and its parsing: text, numbers in a range, booleans, URLs, secrets,
//! lists, tables, plugin pins and adapter configurations.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Secret;

/// A value as a source gives it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Raw<'a> {
    Toml(&'a toml::Value),
    Text(&'a str),
}

pub(super) enum SetError {
    Unknown,
    Bad(String),
}

impl From<String> for SetError {
    fn from(s: String) -> Self {
        Self::Bad(s)
    }
}

impl Raw<'_> {
    pub(super) fn text(&self) -> Result<String, String> {
        match self {
            Raw::Text(s) => Ok((*s).to_string()),
            Raw::Toml(toml::Value::String(s)) => Ok(s.clone()),
            Raw::Toml(v) => Err(format!("expected a string, found {}", v.type_str())),
        }
    }

    pub(super) fn non_empty(&self) -> Result<String, String> {
        let s = self.text()?;
        if s.trim().is_empty() {
            return Err("must not be empty".into());
        }
        Ok(s)
    }

    pub(super) fn path(&self) -> Result<PathBuf, String> {
        self.non_empty().map(PathBuf::from)
    }

    pub(super) fn int(&self, min: u64, max: u64) -> Result<u64, String> {
        let n = match self {
            Raw::Text(s) => s
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("expected a whole number, found `{}`", clip(s)))?,
            Raw::Toml(toml::Value::Integer(i)) => {
                u64::try_from(*i).map_err(|_| format!("must be at least {min}, not {i}"))?
            }
            Raw::Toml(v) => return Err(format!("expected an integer, found {}", v.type_str())),
        };
        if n < min || n > max {
            return Err(format!("must be {min}–{max}, not {n}"));
        }
        Ok(n)
    }

    pub(super) fn boolean(&self) -> Result<bool, String> {
        match self {
            Raw::Toml(toml::Value::Boolean(b)) => Ok(*b),
            Raw::Text(s) => match s.trim() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                other => Err(format!("expected true or false, found `{}`", clip(other))),
            },
            Raw::Toml(v) => Err(format!("expected true or false, found {}", v.type_str())),
        }
    }

    pub(super) fn url(&self) -> Result<String, String> {
        let s = self.non_empty()?;
        if !(s.starts_with("http://") || s.starts_with("https://")) {
            return Err(format!(
                "must be an http:// or https:// URL, not `{}`",
                clip(&s)
            ));
        }
        Ok(s)
    }

    pub(super) fn secret(&self) -> Result<Secret, String> {
        let s = self.text()?;
        if s.chars().count() < 16 || s.chars().any(char::is_whitespace) {
            return Err("must be at least 16 characters, without spaces".into());
        }
        Ok(Secret(s))
    }

    /// A TOML array of strings, or comma-separated text (a TOML string too).
    pub(super) fn list(&self) -> Result<Vec<String>, String> {
        let split = |s: &str| {
            s.split(',')
                .map(|i| i.trim().to_string())
                .filter(|i| !i.is_empty())
                .collect()
        };
        match self {
            Raw::Text(s) => Ok(split(s)),
            Raw::Toml(toml::Value::String(s)) => Ok(split(s)),
            Raw::Toml(toml::Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("expected strings, found {}", v.type_str()))
                })
                .collect(),
            Raw::Toml(v) => Err(format!(
                "expected an array of strings, found {}",
                v.type_str()
            )),
        }
    }

    /// A TOML table of strings, or `KEY=VALUE,…` text.
    pub(super) fn pairs(&self) -> Result<Vec<(String, String)>, String> {
        match self {
            Raw::Text(s) => s
                .split(',')
                .filter(|i| !i.trim().is_empty())
                .map(|i| {
                    i.split_once('=')
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .ok_or_else(|| format!("expected KEY=VALUE, found `{}`", clip(i)))
                })
                .collect(),
            Raw::Toml(toml::Value::Table(t)) => t
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|v| (k.clone(), v.to_string()))
                        .ok_or_else(|| format!("`{k}` must be a string, not {}", v.type_str()))
                })
                .collect(),
            Raw::Toml(v) => Err(format!("expected a table, found {}", v.type_str())),
        }
    }

    pub(super) fn pins(&self) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        let mut add = |file: &str, hash: &str| -> Result<(), String> {
            let (file, hash) = (file.trim(), hash.trim());
            if file.is_empty() || file.contains('/') {
                return Err(format!("`{}` is not a file name", clip(file)));
            }
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "the pin of `{file}` is not 64 hex digits (SHA-256)"
                ));
            }
            out.insert(file.to_string(), hash.to_ascii_lowercase());
            Ok(())
        };
        match self {
            Raw::Toml(toml::Value::Table(t)) => {
                for (file, v) in t {
                    let hash = v.as_str().ok_or_else(|| {
                        format!("the pin of `{file}` must be a string, not {}", v.type_str())
                    })?;
                    add(file, hash)?;
                }
            }
            Raw::Toml(v) => {
                return Err(format!(
                    "expected a table of file name = \"sha256\", found {}",
                    v.type_str()
                ));
            }
            Raw::Text(s) => {
                for item in s.split(',').filter(|i| !i.trim().is_empty()) {
                    let (file, hash) = item
                        .split_once('=')
                        .ok_or_else(|| format!("expected FILE=SHA256, found `{}`", clip(item)))?;
                    add(file, hash)?;
                }
            }
        }
        Ok(out)
    }
}

impl Raw<'_> {
    /// `plugins.config`: a TOML table of tables (one per `caOrgType`), or a JSON object of
    /// objects as text.
    pub(super) fn adapter_configs(&self) -> Result<BTreeMap<String, serde_json::Value>, String> {
        let value = match self {
            Raw::Text(s) => serde_json::from_str::<serde_json::Value>(s).map_err(|e| {
                format!("expected a JSON object {{\"CAORGTYPE\": {{…}}}}, not valid JSON ({e})")
            })?,
            Raw::Toml(v @ toml::Value::Table(_)) => {
                serde_json::to_value(v).map_err(|e| format!("cannot be turned into JSON ({e})"))?
            }
            Raw::Toml(v) => {
                return Err(format!(
                    "expected a table of caOrgType = {{ … }}, found {}",
                    v.type_str()
                ));
            }
        };
        let serde_json::Value::Object(vendors) = value else {
            return Err("expected an object of caOrgType → configuration".into());
        };
        let mut out = BTreeMap::new();
        for (vendor, config) in vendors {
            if vendor.trim().is_empty() {
                return Err("a caOrgType must not be empty".into());
            }
            if !config.is_object() {
                return Err(format!(
                    "the configuration of `{}` must be a table (a JSON object)",
                    clip(&vendor)
                ));
            }
            out.insert(vendor, config);
        }
        Ok(out)
    }
}

pub(super) fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}
