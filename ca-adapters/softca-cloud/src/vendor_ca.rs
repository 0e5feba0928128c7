//! A vendor cloud's own test CA and the wallets it issues, each with the `vendor.json` that
//! tells `camr-app` whose app it plays.

use std::path::Path;

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::softca::{Holder, SoftCa};

/// Creates vendor `vendor`'s test CA (SM2) named `name` in `dir`.
pub fn init_vendor_ca(dir: &Path, vendor: &str, name: &str) -> Result<SoftCa, String> {
    SoftCa::init(default_provider(), dir, KeyAlgorithm::Sm2, name)
        .map_err(|e| format!("cannot create the {vendor} CA in {}: {e}", dir.display()))
}

/// Issues a wallet for `holder` from vendor `vendor`'s CA in `ca_dir` into `out` (valid
/// `days`, keys under `pin`) and writes `vendor_json` as its `vendor.json`. Returns the
/// signing certificate's serial (hex).
pub fn issue_vendor_wallet(
    ca_dir: &Path,
    vendor: &str,
    holder: &Holder,
    pin: &[u8],
    out: &Path,
    days: u64,
    vendor_json: &serde_json::Value,
) -> Result<String, String> {
    let mut ca = SoftCa::open(default_provider(), ca_dir)
        .map_err(|e| format!("cannot open the {vendor} CA: {e}"))?;
    let wallet = ca
        .issue(holder, pin, out, days)
        .map_err(|e| format!("cannot issue the wallet: {e}"))?;
    std::fs::write(out.join("vendor.json"), vendor_json.to_string())
        .map_err(|e| format!("cannot write vendor.json: {e}"))?;
    Ok(wallet.sign_serial)
}
