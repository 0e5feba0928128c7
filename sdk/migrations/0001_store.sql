-- camr transaction store: transactions, usage records (证书使用记录) and the audit log.
-- Enum values are stored with their wire names (`scanned`, `SM2`, `orgCert`, ...).

CREATE TABLE transactions (
    tid          TEXT PRIMARY KEY NOT NULL,
    system_code  TEXT NOT NULL,
    operation    TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ca_org_type  TEXT,
    message      TEXT,
    -- The platform-signed request object (SignedRequest JSON), exactly as served.
    request      TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- Per-transaction secret (PKCS#8 DER); NULL once used.
    secret       BLOB,
    -- The verified result (JSON), once there is one.
    result       TEXT
) STRICT;

CREATE INDEX transactions_pending ON transactions (state, expires_at);

CREATE TABLE usage_records (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    trading_system_code  TEXT NOT NULL,
    trading_system_name  TEXT NOT NULL,
    cert_sn              TEXT NOT NULL,
    cert_name            TEXT NOT NULL,
    cert_type            TEXT NOT NULL,
    public_key_algorithm TEXT NOT NULL,
    subject_type         TEXT NOT NULL,
    usage_scene          TEXT NOT NULL,
    tid                  TEXT NOT NULL,
    used_at              INTEGER NOT NULL,
    ca_org_type          TEXT NOT NULL,
    operator             TEXT
) STRICT;

CREATE INDEX usage_records_used_at ON usage_records (used_at);
CREATE INDEX usage_records_cert_sn ON usage_records (cert_sn);

-- Append-only: each entry carries the hash of the one before (see `camr::store::audit_hash`).
-- The triggers stop accidental edits; the hash chain is what detects deliberate ones.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY NOT NULL,
    at        INTEGER NOT NULL,
    tid       TEXT,
    event     TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
