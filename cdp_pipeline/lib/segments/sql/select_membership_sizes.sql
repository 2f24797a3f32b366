-- Members per segment.
SELECT segment, count(*) AS members FROM segments.membership GROUP BY segment ORDER BY segment
