-- Summarises the ledger of one source over a range of landing days, per status.
SELECT status, count(*) AS files, coalesce(sum(rows_loaded), 0) AS rows_loaded,
       coalesce(sum(rows_quarantined), 0) AS rows_quarantined
FROM audit.files
WHERE source = $source AND landing_date BETWEEN CAST($first_day AS DATE) AND CAST($last_day AS DATE)
GROUP BY status
ORDER BY status
