-- The bid-opening hall (不见面开标大厅): see `camr::store::hall`; the same tables as the
-- SQLite store's, shared by every server instance on the database.

CREATE TABLE hall_bids (
    seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id     TEXT NOT NULL UNIQUE,
    tender TEXT NOT NULL,
    record TEXT NOT NULL
);

CREATE INDEX hall_bids_tender ON hall_bids (tender, seq);

CREATE TABLE hall_bid_keys (
    key_digest TEXT PRIMARY KEY,
    bid_id     TEXT NOT NULL
);

CREATE TABLE hall_sign_ins (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bid_id       TEXT NOT NULL,
    cert_sn      TEXT NOT NULL,
    record       TEXT NOT NULL,
    signed_in_at BIGINT NOT NULL,
    UNIQUE (bid_id, cert_sn)
);

CREATE TABLE hall_pending (
    tid        TEXT PRIMARY KEY,
    bid_id     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
