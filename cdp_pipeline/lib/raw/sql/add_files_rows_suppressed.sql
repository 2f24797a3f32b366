-- Adds the suppressed-rows count to a ledger created before erasure existed.
ALTER TABLE audit.files ADD COLUMN IF NOT EXISTS rows_suppressed BIGINT DEFAULT 0
