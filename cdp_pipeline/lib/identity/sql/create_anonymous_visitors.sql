-- Cookies ({cookie}: the web events' cookie column) never seen with a user_id, with their events: counted,
-- never customers, never linked.
CREATE OR REPLACE TABLE identity.anonymous_visitors AS
SELECT {cookie} AS user_pseudo_id, count(*) AS events
FROM staging.web_events
WHERE {cookie} IS NOT NULL
GROUP BY {cookie}
HAVING count(user_id) = 0
ORDER BY 1
