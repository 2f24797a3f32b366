-- Records delivered files in the ledger (an Arrow batch, one row per file).
INSERT INTO audit.files BY NAME
SELECT *, CAST($loaded_at AS TIMESTAMP) AS loaded_at
FROM {batch}
