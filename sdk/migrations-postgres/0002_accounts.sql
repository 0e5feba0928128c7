-- Platform accounts bound to certificate holders (扫码绑定, 共享注册): see
-- `camr::store::accounts`; the same columns as the SQLite store's. Keyed by the holder's
-- identity (`identity_key`), not by the certificate serial, so a renewed certificate of the
-- same holder finds its account. Shared by every server instance on the database.

CREATE TABLE accounts (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    created_at   BIGINT NOT NULL,
    decided_at   BIGINT,
    note         TEXT
);

CREATE INDEX accounts_status ON accounts (status, seq);
