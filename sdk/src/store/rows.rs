//! What the SQL stores share: the text form of enum values, and reading a transaction, a
//! usage record or an audit entry from a row. SQLite and PostgreSQL store the same columns
//! with the same types, so one reader serves both; `db` names the database in messages.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{AuditEntry, StoreError, TxRecord};
use crate::protocol::{Transaction, UsageRecord};

/// A row value the store cannot read back.
pub(super) fn data_error(db: &str, what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("the {db} store holds an unreadable {what}: {e}"))
}

/// The wire name of an enum value (`scanned`, `SM2`, ...), or a string newtype's text.
pub(super) fn wire_str<T: Serialize>(value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(other) => Err(StoreError::Backend(format!("cannot store {other} as text"))),
        Err(e) => Err(StoreError::Backend(format!("cannot store a value: {e}"))),
    }
}

/// The value whose wire name is `s`.
pub(super) fn from_wire<T: DeserializeOwned>(
    db: &str,
    what: &str,
    s: String,
) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s)).map_err(|e| data_error(db, what, e))
}

/// `value` as JSON text, for a text column.
pub(super) fn to_json<T: Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Backend(format!("cannot store the {what}: {e}")))
}

/// Column `name` of `row`, read as part of `what`.
pub(super) fn col<'r, R, T>(db: &str, row: &'r R, name: &str, what: &str) -> Result<T, StoreError>
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Backend(format!("{db} could not read {what}: {e}")))
}

/// A `transactions` row.
pub(super) fn record_from_row<R: Row>(db: &str, row: &R) -> Result<TxRecord, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    const W: &str = "the transaction";
    let c = |name: &str| -> Result<String, StoreError> { col(db, row, name, W) };
    let request: String = c("request")?;
    let result: Option<String> = col(db, row, "result", W)?;
    Ok(TxRecord {
        transaction: Transaction {
            tid: from_wire(db, "tid", c("tid")?)?,
            system_code: from_wire(db, "system code", c("system_code")?)?,
            operation: from_wire(db, "operation", c("operation")?)?,
            state: from_wire(db, "transaction state", c("state")?)?,
            created_at: col(db, row, "created_at", W)?,
            expires_at: col(db, row, "expires_at", W)?,
            ca_org_type: col(db, row, "ca_org_type", W)?,
            message: col(db, row, "message", W)?,
        },
        request: serde_json::from_str(&request).map_err(|e| data_error(db, "request object", e))?,
        request_hash: c("request_hash")?,
        secret: col(db, row, "secret", W)?,
        result: result
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(|e| data_error(db, "result", e))?,
        owner_hash: col(db, row, "owner_hash", W)?,
    })
}

/// A `usage_records` row.
pub(super) fn usage_from_row<R: Row>(db: &str, row: &R) -> Result<UsageRecord, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    const W: &str = "a usage record";
    let c = |name: &str| -> Result<String, StoreError> { col(db, row, name, W) };
    Ok(UsageRecord {
        trading_system_code: from_wire(db, "trading system code", c("trading_system_code")?)?,
        trading_system_name: c("trading_system_name")?,
        cert_sn: c("cert_sn")?,
        cert_name: c("cert_name")?,
        cert_type: from_wire(db, "certificate type", c("cert_type")?)?,
        public_key_algorithm: from_wire(db, "public key algorithm", c("public_key_algorithm")?)?,
        subject_type: from_wire(db, "subject type", c("subject_type")?)?,
        usage_scene: from_wire(db, "usage scene", c("usage_scene")?)?,
        tid: from_wire(db, "tid", c("tid")?)?,
        used_at: col(db, row, "used_at", W)?,
        ca_org_type: c("ca_org_type")?,
        operator: col(db, row, "operator", W)?,
        revocation_unknown: col(db, row, "revocation_unknown", W)?,
    })
}

/// An `audit_log` row.
pub(super) fn audit_from_row<R: Row>(db: &str, row: &R) -> Result<AuditEntry, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    const W: &str = "the audit log";
    let seq: i64 = col(db, row, "seq", W)?;
    Ok(AuditEntry {
        // A negative seq (an edited row) reads as 0, which `verify_audit` names.
        seq: u64::try_from(seq).unwrap_or(0),
        at: col(db, row, "at", W)?,
        tid: col(db, row, "tid", W)?,
        event: col(db, row, "event", W)?,
        detail: col(db, row, "detail", W)?,
        prev_hash: col(db, row, "prev_hash", W)?,
        hash: col(db, row, "hash", W)?,
    })
}

/// An `accounts` row.
pub(super) fn account_from_row<R: Row>(
    db: &str,
    row: &R,
) -> Result<super::accounts::Account, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    const W: &str = "an account";
    let c = |name: &str| -> Result<String, StoreError> { col(db, row, name, W) };
    let subject: String = c("subject")?;
    let registration: Option<String> = col(db, row, "registration", W)?;
    Ok(super::accounts::Account {
        id: c("id")?,
        identity_key: c("identity_key")?,
        status: from_wire(db, "account status", c("status")?)?,
        name: c("name")?,
        organization: col(db, row, "organization", W)?,
        subject: serde_json::from_str(&subject)
            .map_err(|e| data_error(db, "account subject", e))?,
        registration: registration
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(|e| data_error(db, "registration", e))?,
        ca_org_type: c("ca_org_type")?,
        created_at: col(db, row, "created_at", W)?,
        decided_at: col(db, row, "decided_at", W)?,
        note: col(db, row, "note", W)?,
    })
}
