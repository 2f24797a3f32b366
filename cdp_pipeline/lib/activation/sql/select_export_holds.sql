-- The holds of a run date, one row per destination, channel and file.
SELECT destination, channel, source, file, file_sha256, landing_date, reason, release
FROM audit.export_holds
WHERE run_date = $run_date
ORDER BY destination, channel, file
