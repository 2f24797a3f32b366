-- A raw table for one file kind: its canonical columns (VARCHAR, as received) plus load metadata.
CREATE TABLE IF NOT EXISTS raw.{table} ({column_defs})
