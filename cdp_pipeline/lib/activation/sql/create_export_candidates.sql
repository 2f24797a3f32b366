-- Members of a destination's segments with what the consent gate and the row builder need.
CREATE OR REPLACE TEMP TABLE export_candidates AS
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
