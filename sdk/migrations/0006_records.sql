-- Versioned records of multi-step state (seal sessions, registrations, callback records, an
-- outbox): see `camr::store::records`. Every write checks and bumps `version`.

CREATE TABLE records (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (kind, key)
) STRICT;

CREATE INDEX records_expiry ON records (expires_at);
