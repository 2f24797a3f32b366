-- Counts every file the ledger has recorded.
SELECT count(*) FROM audit.files
