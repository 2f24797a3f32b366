-- Every stay of a customer in a segment across runs; exited_at is NULL while still a member.
CREATE TABLE IF NOT EXISTS segments.history (
    segment VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    entered_at DATE NOT NULL,
    exited_at DATE
)
