//! The kit's configuration file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the kit's certificates come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SoftCaSource {
    /// `"temp"`: the kit creates a temporary software CA and wallet.
    Temp(String),
    /// An existing software CA folder and a wallet it issued, with the wallet's PIN. The kit
    /// issues (and revokes) extra test certificates in this CA for the revocation cases.
    Dirs {
        /// The CA folder (`camr ca init`).
        #[serde(rename = "caDir")]
        ca_dir: PathBuf,
        /// The wallet folder (`camr ca issue`).
        #[serde(rename = "walletDir")]
        wallet_dir: PathBuf,
        /// The wallet's PIN.
        pin: String,
    },
}

/// `cfg.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KitConfig {
    /// The certificates: `"temp"` or `{"caDir","walletDir","pin"}`.
    pub softca: SoftCaSource,
    /// JSON handed to the adapter's `configure`. String values `${walletDir}`, `${pin}` and
    /// `${caDir}` are replaced with the kit's wallet folder, PIN and CA folder.
    #[serde(default = "empty_object")]
    pub adapter_config: serde_json::Value,
    /// A command that turns camr evidence JSON (stdin) into the vendor's raw answer (stdout).
    /// Without it the raw answer is camr's evidence JSON (the softca wire format).
    #[serde(default)]
    pub encoder: Option<Vec<String>>,
    /// Pre-recorded vendor answers: `<operation>.raw` files, each decoded through the adapter;
    /// `<operation>.expected.json` (camr evidence JSON), when present, must equal the result.
    #[serde(default)]
    pub evidence_dir: Option<PathBuf>,
    /// The host's deadline per adapter call, ms (default 5000).
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    /// The timeout the kit asks the adapter to use for vendor endpoints (`timeoutMs`), ms
    /// (default 500).
    #[serde(default)]
    pub endpoint_timeout_ms: Option<u64>,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

impl KitConfig {
    /// Reads and parses `path`; relative paths in it are taken from the file's folder.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut config: KitConfig = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a kit configuration: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let SoftCaSource::Dirs {
            ca_dir, wallet_dir, ..
        } = &mut config.softca
        {
            fix(ca_dir);
            fix(wallet_dir);
        }
        if let Some(d) = &mut config.evidence_dir {
            fix(d);
        }
        if let SoftCaSource::Temp(word) = &config.softca
            && word != "temp"
        {
            return Err(format!(
                "`softca` must be \"temp\" or {{\"caDir\",\"walletDir\",\"pin\"}}, not \"{word}\""
            ));
        }
        if !config.adapter_config.is_object() {
            return Err("`adapterConfig` must be a JSON object".into());
        }
        Ok(config)
    }
}

/// Replaces `${walletDir}`, `${pin}`, `${caDir}` in string values.
pub fn substitute(value: &serde_json::Value, vars: &[(&str, String)]) -> serde_json::Value {
    match value {
        serde_json::Value::String(s) => {
            let mut out = s.clone();
            for (k, v) in vars {
                out = out.replace(&format!("${{{k}}}"), v);
            }
            serde_json::Value::String(out)
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(|v| substitute(v, vars)).collect())
        }
        serde_json::Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), substitute(v, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}
