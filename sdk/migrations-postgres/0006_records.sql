-- Versioned records of multi-step state (seal sessions, registrations, callback records, an
-- outbox): see `camr::store::records`. Every write checks and bumps `version`.

CREATE TABLE records (
    seq        BIGSERIAL PRIMARY KEY,
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (kind, key)
);

CREATE INDEX records_expiry ON records (expires_at);
