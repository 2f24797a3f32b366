-- Adds a canonical column that a newer contract introduced to an existing raw table.
ALTER TABLE raw.{table} ADD COLUMN IF NOT EXISTS {column} {column_type}
