-- Lists what was quarantined over a range of landing days (whole files first).
SELECT source, file, line_number, reason
FROM audit.quarantine
WHERE landing_date BETWEEN CAST($first_day AS DATE) AND CAST($last_day AS DATE)
ORDER BY source, file, line_number NULLS FIRST
