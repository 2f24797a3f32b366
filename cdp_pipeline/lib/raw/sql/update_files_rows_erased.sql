-- Counts raw rows an erasure deleted against the file that loaded them, so raw still matches the ledger.
UPDATE audit.files
SET rows_erased = coalesce(rows_erased, 0) + $rows
WHERE file = $file AND sha256 = $sha256 AND status = 'loaded'
