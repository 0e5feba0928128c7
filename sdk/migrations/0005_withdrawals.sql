-- Delegations withdrawn (收回) by their organisation: an indexed table, so an answer under a
-- delegation costs one lookup (it used to scan the audit log). The audit log keeps the
-- event too; earlier withdrawals are carried over from it.
CREATE TABLE delegation_withdrawals (
    id           TEXT PRIMARY KEY NOT NULL,
    withdrawn_at INTEGER NOT NULL,
    reason       TEXT NOT NULL
) STRICT;

INSERT OR IGNORE INTO delegation_withdrawals (id, withdrawn_at, reason)
    SELECT substr(detail, 1, 64), at, substr(detail, 66)
    FROM audit_log WHERE event = 'delegation-withdrawn' AND length(detail) >= 64;
