-- Removes one landing day's rows from a raw table so the day can be loaded again.
DELETE FROM raw.{table} WHERE _landing_date = CAST($landing_date AS DATE)
