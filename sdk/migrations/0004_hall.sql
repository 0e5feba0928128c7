-- The bid-opening hall (不见面开标大厅): see `camr::store::hall`. Bids with the SM3 of each
-- content key their envelope carries (how the decrypt gate recognises a decrypt of a bid),
-- verified sign-ins (one per bid and certificate, never replaced), pending sign-in logins.

CREATE TABLE hall_bids (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    id     TEXT NOT NULL UNIQUE,
    tender TEXT NOT NULL,
    -- The bid (Bid JSON, without sign-ins).
    record TEXT NOT NULL
) STRICT;

CREATE INDEX hall_bids_tender ON hall_bids (tender, seq);

CREATE TABLE hall_bid_keys (
    key_digest TEXT PRIMARY KEY NOT NULL,
    bid_id     TEXT NOT NULL
) STRICT;

CREATE TABLE hall_sign_ins (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    bid_id       TEXT NOT NULL,
    cert_sn      TEXT NOT NULL,
    record       TEXT NOT NULL,
    signed_in_at INTEGER NOT NULL,
    UNIQUE (bid_id, cert_sn)
) STRICT;

CREATE TABLE hall_pending (
    tid        TEXT PRIMARY KEY NOT NULL,
    bid_id     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
