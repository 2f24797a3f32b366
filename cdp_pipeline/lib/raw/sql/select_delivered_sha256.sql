-- The bytes the ledger holds a delivery of (what select_first_delivery can find), to ask it about those only.
SELECT DISTINCT sha256
FROM audit.files
WHERE status <> 'duplicate'
