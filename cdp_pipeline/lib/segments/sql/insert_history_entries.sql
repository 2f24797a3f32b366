-- Open a stay for members without one.
INSERT INTO segments.history
SELECT m.segment, m.customer_id, least(m.since, $run_date::DATE), NULL
FROM segments.membership AS m
WHERE NOT EXISTS (SELECT 1 FROM segments.history AS h
                  WHERE h.segment = m.segment AND h.customer_id = m.customer_id AND h.exited_at IS NULL)
ORDER BY m.segment, m.customer_id
