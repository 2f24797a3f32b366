-- Destinations held on the run date (golden's as_of_date), the files that hold them and how to release one.
SELECT destination, list(DISTINCT file ORDER BY file) AS files, min(release) AS release
FROM audit.export_holds
WHERE run_date = (SELECT max(as_of_date)::DATE FROM golden.customers)
GROUP BY destination
ORDER BY destination
