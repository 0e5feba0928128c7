-- camr transaction store in PostgreSQL: transactions, usage records (证书使用记录) and the
-- audit log; the same tables and columns as the SQLite store (sdk/migrations/).
-- Enum values are stored with their wire names (`scanned`, `SM2`, `orgCert`, ...).

CREATE TABLE transactions (
    tid          TEXT PRIMARY KEY,
    system_code  TEXT NOT NULL,
    operation    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('created', 'scanned', 'approved', 'rejected',
                                               'verified', 'failed', 'expired', 'cancelled')),
    -- Unix seconds, as given; the store never expires a transaction by itself.
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ca_org_type  TEXT,
    message      TEXT,
    -- The platform-signed request object (SignedRequest JSON), exactly as served.
    request      TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- Per-transaction secret (PKCS#8 DER); NULL once used.
    secret       BYTEA,
    -- The verified result (JSON text, kept byte for byte), once there is one.
    result       TEXT
);

CREATE INDEX transactions_pending ON transactions (state, expires_at);

CREATE TABLE usage_records (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trading_system_code  TEXT NOT NULL,
    trading_system_name  TEXT NOT NULL,
    cert_sn              TEXT NOT NULL,
    cert_name            TEXT NOT NULL,
    cert_type            TEXT NOT NULL,
    public_key_algorithm TEXT NOT NULL,
    subject_type         TEXT NOT NULL,
    usage_scene          TEXT NOT NULL,
    tid                  TEXT NOT NULL,
    used_at              BIGINT NOT NULL,
    ca_org_type          TEXT NOT NULL,
    operator             TEXT
);

CREATE INDEX usage_records_used_at ON usage_records (used_at);
CREATE INDEX usage_records_cert_sn ON usage_records (cert_sn);

-- Append-only: each entry carries the hash of the one before (see `camr::store::audit_hash`).
-- The triggers stop accidental edits; the hash chain is what detects deliberate ones.
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    tid       TEXT,
    event     TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

-- The head of the chain (last seq and hash): one row, locked (`SELECT ... FOR UPDATE`) by every
-- append, so writers in any number of processes append one after the other: gapless seq, each
-- prev_hash the real last hash. Deleting the newest entries does not rewind it, so the next
-- entry leaves a gap that `verify_audit` names.
CREATE TABLE audit_head (
    id   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);

INSERT INTO audit_head (id, seq, hash)
VALUES (TRUE, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION camr_audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION camr_audit_log_append_only();

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION camr_audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION camr_audit_log_append_only();
