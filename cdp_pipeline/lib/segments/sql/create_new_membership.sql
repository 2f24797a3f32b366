-- Next membership: evaluated segments keep their members' entry date; failed segments keep last members.
CREATE OR REPLACE TEMP TABLE new_membership AS
WITH evaluated AS (
    SELECT e.segment, e.customer_id,
           CASE WHEN p.since IS NOT NULL AND p.since <= $run_date THEN p.since ELSE $run_date END AS since,
           $run_date::DATE AS run_date
    FROM evaluated_members AS e
    LEFT JOIN segments.membership AS p USING (segment, customer_id)
),
kept AS (
    SELECT segment, customer_id, since, run_date
    FROM segments.membership
    WHERE list_contains($kept_segments::VARCHAR[], segment)
)
SELECT * FROM evaluated
UNION ALL
SELECT * FROM kept
ORDER BY segment, customer_id
