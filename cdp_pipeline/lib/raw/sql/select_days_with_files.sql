-- The landing days of a source the ledger holds any file of (days loaded before: a rerun clears them first).
SELECT DISTINCT landing_date
FROM audit.files
WHERE source = $source
