-- Segment definitions as last loaded, with whether each one builds.
CREATE TABLE IF NOT EXISTS segments.definitions (
    segment VARCHAR NOT NULL,
    description VARCHAR,
    predicate VARCHAR,
    predicate_sql VARCHAR,
    owner VARCHAR,
    tags VARCHAR[],
    status VARCHAR NOT NULL,
    error VARCHAR,
    members BIGINT,
    run_date DATE,
    evaluated_at TIMESTAMP
)
