-- Destinations held back on a run date because a consent-bearing file could not be read: which file, which channel, how to release.
CREATE TABLE IF NOT EXISTS audit.export_holds (
    run_date DATE NOT NULL,
    destination VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    landing_date DATE NOT NULL,
    reason VARCHAR NOT NULL,
    release VARCHAR NOT NULL,
    held_at TIMESTAMP NOT NULL
)
