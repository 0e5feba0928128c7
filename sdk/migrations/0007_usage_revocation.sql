-- A login let through by the soft-fail revocation policy without a known certificate status
-- is billed and reported as such (`revocationUnknown`, docs/revocation.md).
ALTER TABLE usage_records ADD COLUMN revocation_unknown INTEGER NOT NULL DEFAULT 0;
