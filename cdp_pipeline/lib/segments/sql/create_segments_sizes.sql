-- Segment size per run date: the series behind the size-over-time picture.
CREATE TABLE IF NOT EXISTS segments.sizes (
    run_date DATE NOT NULL,
    segment VARCHAR NOT NULL,
    members BIGINT NOT NULL,
    entered BIGINT NOT NULL,
    exited BIGINT NOT NULL,
    status VARCHAR NOT NULL
)
