-- Files holding destinations on the run date (golden's as_of_date): the destinations each holds and how to release it.
SELECT file, list(DISTINCT destination ORDER BY destination) AS destinations, min(release) AS release
FROM audit.export_holds
WHERE run_date = (SELECT max(as_of_date)::DATE FROM golden.customers)
GROUP BY file
ORDER BY file
