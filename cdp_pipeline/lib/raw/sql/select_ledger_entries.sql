-- Every file the ledger has seen: (file, landing day, bytes, when it was last loaded), as changed_days compares them with the landing folder.
SELECT file, landing_date, bytes, max(loaded_at) FROM audit.files GROUP BY ALL
