-- The stored definitions, for membership evaluation and the per-segment checks.
SELECT segment, description, predicate, owner, tags, status, error, members, run_date
FROM segments.definitions ORDER BY segment
