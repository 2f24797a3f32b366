-- Compare, per staging event table, the mapped events before the cutoff with the timeline rows: each must appear exactly once, for its customer. Macros: create_timeline_check_macros.
WITH expected AS (
    SELECT kind, customer_id, event_ref, count(*) AS n
    FROM _timeline_expected(CAST($cutoff AS TIMESTAMP))
    GROUP BY ALL
),
actual AS (
    SELECT kind, customer_id, event_ref, count(*) AS n
    FROM _timeline_actual()
    GROUP BY ALL
)
SELECT coalesce(e.kind, a.kind) AS kind,
       count(*) FILTER (WHERE a.n IS NULL) AS missing,
       count(*) FILTER (WHERE e.n IS NULL) AS unexpected,
       count(*) FILTER (WHERE e.n <> a.n) AS miscounted
FROM expected AS e
FULL OUTER JOIN actual AS a ON a.kind = e.kind AND a.customer_id = e.customer_id AND a.event_ref = e.event_ref
GROUP BY ALL
ORDER BY kind
