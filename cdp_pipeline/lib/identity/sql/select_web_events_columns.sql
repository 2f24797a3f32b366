-- The columns of staging.web_events (none when the table is absent): which one holds the cookie.
SELECT column_name FROM duckdb_columns() WHERE schema_name = 'staging' AND table_name = 'web_events'
