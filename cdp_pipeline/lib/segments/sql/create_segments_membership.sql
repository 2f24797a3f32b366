-- Current members of each segment, with the run date they entered.
CREATE TABLE IF NOT EXISTS segments.membership (
    segment VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    since DATE NOT NULL,
    run_date DATE NOT NULL
)
