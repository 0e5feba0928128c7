-- Platform accounts bound to certificate holders (扫码绑定, 共享注册): see
-- `camr::store::accounts`. Keyed by the holder's identity (`identity_key`), not by the
-- certificate serial, so a renewed certificate of the same holder finds its account.

CREATE TABLE accounts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    identity_key TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'active', 'refused')),
    name         TEXT NOT NULL,
    organization TEXT,
    -- The registering certificate's subject (Subject JSON).
    subject      TEXT NOT NULL,
    -- Shared and completed registration data (SharedRegistration JSON).
    registration TEXT,
    ca_org_type  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    note         TEXT
) STRICT;

CREATE INDEX accounts_status ON accounts (status, seq);
