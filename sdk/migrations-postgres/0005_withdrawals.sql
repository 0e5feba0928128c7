-- Delegations withdrawn (收回) by their organisation: see the SQLite migration of the same
-- name. Earlier withdrawals are carried over from the audit log.
CREATE TABLE delegation_withdrawals (
    id           TEXT PRIMARY KEY,
    withdrawn_at BIGINT NOT NULL,
    reason       TEXT NOT NULL
);

INSERT INTO delegation_withdrawals (id, withdrawn_at, reason)
    SELECT substr(detail, 1, 64), at, substr(detail, 66)
    FROM audit_log WHERE event = 'delegation-withdrawn' AND length(detail) >= 64
    ON CONFLICT DO NOTHING;
