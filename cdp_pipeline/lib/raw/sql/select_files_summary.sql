-- Summarises the file ledger over a range of landing days, per source and status.
SELECT source, status, count(*) AS files, sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
       sum(rows_quarantined) AS rows_quarantined
FROM audit.files
WHERE landing_date BETWEEN CAST($first_day AS DATE) AND CAST($last_day AS DATE)
GROUP BY source, status
ORDER BY source, status
