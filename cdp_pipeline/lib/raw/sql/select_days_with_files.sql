-- The landing days of a source the ledger holds any file of (the days select_day_has_files finds).
SELECT DISTINCT landing_date
FROM audit.files
WHERE source = $source
