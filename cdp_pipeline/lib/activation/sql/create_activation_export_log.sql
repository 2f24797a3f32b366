-- Every export file written: destination, run date, rows, checksum, segments and consent rule.
CREATE TABLE IF NOT EXISTS activation.export_log (
    destination VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    run_date DATE NOT NULL,
    file_kind VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    segments VARCHAR[] NOT NULL,
    required_consent VARCHAR[] NOT NULL,
    consent_rule VARCHAR NOT NULL,
    previous_run_date DATE,
    exported_at TIMESTAMP NOT NULL
)
