-- Shows the first rows a raw table holds for a range of landing days (asset metadata preview).
SELECT *
FROM raw.{table}
WHERE _landing_date BETWEEN CAST($first_day AS DATE) AND CAST($last_day AS DATE)
ORDER BY _landing_date, _file, _line
LIMIT 5
