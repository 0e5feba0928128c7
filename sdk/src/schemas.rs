//! The JSON Schemas of camr's wire types: one file per top-level type, as `schemas/` holds
//! them (drift-checked by `sdk/tests/schemas.rs`, written by `camr schema`). Kept apart from
//! `protocol`, which imports none of the modules whose types are listed here.

use schemars::JsonSchema;

use crate::protocol::*;

fn schema_text<T: JsonSchema>() -> String {
    let schema = schemars::schema_for!(T);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// One JSON Schema per top-level wire type: (file name, pretty JSON), sorted by name.
pub fn all() -> Vec<(&'static str, String)> {
    let mut out = vec![
        (
            "Account.schema.json",
            schema_text::<crate::store::Account>(),
        ),
        (
            "ApiResult.schema.json",
            schema_text::<ApiResult<serde_json::Value>>(),
        ),
        (
            "AuditCheckpoint.schema.json",
            schema_text::<crate::store::AuditCheckpoint>(),
        ),
        ("CallbackEvent.schema.json", schema_text::<CallbackEvent>()),
        (
            "Delegation.schema.json",
            schema_text::<delegation::Delegation>(),
        ),
        ("ErrorCode.schema.json", schema_text::<ErrorCode>()),
        ("Operation.schema.json", schema_text::<Operation>()),
        ("QrPayload.schema.json", schema_text::<QrPayload>()),
        ("RequestObject.schema.json", schema_text::<RequestObject>()),
        ("Response.schema.json", schema_text::<Response>()),
        ("SealInfo.schema.json", schema_text::<SealInfo>()),
        ("SealKind.schema.json", schema_text::<SealKind>()),
        (
            "SealSession.schema.json",
            schema_text::<crate::ceremony::SealSession>(),
        ),
        ("SessionStep.schema.json", schema_text::<SessionStep>()),
        (
            "SignedTrustList.schema.json",
            schema_text::<crate::registry::SignedTrustList>(),
        ),
        (
            "TrustList.schema.json",
            schema_text::<crate::registry::TrustList>(),
        ),
        (
            "SignedDelegation.schema.json",
            schema_text::<delegation::SignedDelegation>(),
        ),
        ("SignedRequest.schema.json", schema_text::<SignedRequest>()),
        ("Subject.schema.json", schema_text::<crate::pki::Subject>()),
        ("SystemCode.schema.json", schema_text::<SystemCode>()),
        ("Tid.schema.json", schema_text::<Tid>()),
        ("Transaction.schema.json", schema_text::<Transaction>()),
        (
            "TransactionState.schema.json",
            schema_text::<TransactionState>(),
        ),
        ("UsageRecord.schema.json", schema_text::<UsageRecord>()),
    ];
    // The report of `camr pdf verify --json` / `seal::verify`.
    #[cfg(feature = "pdf")]
    out.push((
        "PdfReport.schema.json",
        schema_text::<crate::seal::PdfReport>(),
    ));
    out.sort_by_key(|(name, _)| *name);
    out
}

/// Writes [`all`] into `dir` (created if missing); returns the files written.
pub fn write(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, text) in all() {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}
