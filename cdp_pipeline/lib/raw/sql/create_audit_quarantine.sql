-- Rows (line_number set) and whole files (line_number NULL) that could not be read, with why.
CREATE TABLE IF NOT EXISTS audit.quarantine (
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    line_number BIGINT,
    reason VARCHAR NOT NULL,
    raw_record VARCHAR,
    landing_date DATE NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    file_kind VARCHAR,
    quarantined_at TIMESTAMP NOT NULL
)
