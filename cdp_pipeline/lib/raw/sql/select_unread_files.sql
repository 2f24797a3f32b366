-- Files of a range of landing days that were rejected whole or had rows quarantined: the night's warnings.
SELECT file, source, status, rows_read, rows_quarantined, message
FROM audit.files
WHERE landing_date BETWEEN CAST($first_day AS DATE) AND CAST($last_day AS DATE)
  AND (status = 'rejected' OR rows_quarantined > 0)
ORDER BY file
