-- The file ledger: one row per delivered file and what became of it.
CREATE TABLE IF NOT EXISTS audit.files (
    file VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    landing_date DATE NOT NULL,
    sha256 VARCHAR NOT NULL,
    bytes BIGINT NOT NULL,
    encoding VARCHAR,
    delimiter VARCHAR,
    file_kind VARCHAR,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_suppressed BIGINT NOT NULL DEFAULT 0,
    rows_erased BIGINT NOT NULL DEFAULT 0,
    status VARCHAR NOT NULL,
    message VARCHAR,
    loaded_at TIMESTAMP NOT NULL
)
