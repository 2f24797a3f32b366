-- Adds the erased-rows count (raw rows an erasure deleted after the load) to an older ledger.
ALTER TABLE audit.files ADD COLUMN IF NOT EXISTS rows_erased BIGINT DEFAULT 0
