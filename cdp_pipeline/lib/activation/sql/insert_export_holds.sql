-- The run date's holds (new_export_holds is registered by the caller).
INSERT INTO audit.export_holds
SELECT run_date, destination, channel, source, file, file_sha256, landing_date, reason, release, held_at
FROM new_export_holds
