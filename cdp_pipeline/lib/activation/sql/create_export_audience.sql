-- Members of any of the night's destinations' segments ($segments) with what the consent gate and the
-- row builders need: temp table export_audience, built once for every destination (or for one alone)
-- (create_export_candidates_from_audience.sql picks one destination's). segments: the customer's
-- segments among $segments, sorted.
CREATE OR REPLACE TEMP TABLE export_audience AS
WITH members AS (
    SELECT customer_id, list(segment ORDER BY segment) AS segments
    FROM segments.membership
    WHERE list_contains($segments::VARCHAR[], segment)
    GROUP BY customer_id
)
SELECT g.customer_id, g.email, g.phone, g.first_name, g.loyalty_card_ids,
       g.email_contactable, g.sms_contactable, m.segments
FROM members AS m
JOIN golden.customers AS g USING (customer_id)
