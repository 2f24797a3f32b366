-- Per staging event table, the number and a hash sum of (customer, event) pairs expected from the mapped events before the cutoff and found in the timeline: equal multisets give equal figures (select_timeline_mismatches names the differences). Macros: create_timeline_check_macros.
WITH expected AS (
    SELECT kind, count(*) AS n, sum(hash(customer_id, event_ref)) AS h
    FROM _timeline_expected(CAST($cutoff AS TIMESTAMP))
    GROUP BY ALL
),
-- the timeline's figures per event type first (a handful of groups), then per staging table: the
-- sums are exact (HUGEINT), and the event type is read instead of matched against patterns row by row
by_type AS (
    SELECT event_type, count(*) AS n, sum(hash(customer_id, event_ref)) AS h
    FROM golden.customer_timeline
    GROUP BY event_type
),
actual AS (
    SELECT _timeline_kind(event_type) AS kind, sum(n) AS n, sum(h) AS h
    FROM by_type
    GROUP BY ALL
)
SELECT coalesce(e.kind, a.kind) AS kind
FROM expected AS e
FULL OUTER JOIN actual AS a USING (kind)
WHERE e.n IS DISTINCT FROM a.n OR e.h IS DISTINCT FROM a.h
ORDER BY kind
