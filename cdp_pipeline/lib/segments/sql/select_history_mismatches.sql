-- Check: open stays and current membership disagree, or a member has two open stays.
SELECT 'member without one open stay' AS problem, m.segment, m.customer_id
FROM segments.membership AS m
LEFT JOIN (SELECT segment, customer_id, count(*) AS n FROM segments.history WHERE exited_at IS NULL GROUP BY ALL) AS h
       USING (segment, customer_id)
WHERE coalesce(h.n, 0) <> 1
UNION ALL
SELECT 'open stay of a non-member', h.segment, h.customer_id
FROM segments.history AS h
WHERE h.exited_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM segments.membership AS m WHERE m.segment = h.segment AND m.customer_id = h.customer_id)
UNION ALL
SELECT 'stay ends before it begins', segment, customer_id FROM segments.history WHERE exited_at < entered_at
ORDER BY 1, 2, 3
LIMIT 100
