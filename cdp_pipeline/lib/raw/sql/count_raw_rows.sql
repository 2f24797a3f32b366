-- Counts the rows a raw table holds (to compare with the ledger).
SELECT count(*) FROM raw.{table}
