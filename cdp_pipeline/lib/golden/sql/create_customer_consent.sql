-- Settle each customer's email and SMS consent from their signals before the cutoff: the latest signal wins, but an explicit opt-out only yields to a later explicit signal.
CREATE OR REPLACE TEMP TABLE _golden_consent AS
WITH signals AS (
    SELECT m.customer_id, c.channel, c.state, c.reason, c.event_time, c.source, c.source_record_id,
           coalesce(k.strength, $default_strength) AS strength
    FROM {consent_events} AS c
    JOIN {customer_map} AS m ON m.source = c.source AND m.source_record_id = c.source_record_id
    LEFT JOIN {strengths} AS k ON k.reason = c.reason
    WHERE c.event_time < CAST($cutoff AS TIMESTAMP) AND c.state IN ('granted', 'revoked')
),
ordered AS (
    -- protected_before: the latest explicit signal before this one is a protected opt-out.
    -- On equal times a revocation counts as the later signal, so the safe answer wins ties.
    SELECT *,
           coalesce(last_value(CASE WHEN strength >= $explicit_strength
                                    THEN state = 'revoked' AND strength >= $protected_strength END IGNORE NULLS)
                    OVER (PARTITION BY customer_id, channel
                          ORDER BY event_time, state = 'revoked', strength, source, source_record_id
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS protected_before
    FROM signals
),
winners AS (
    SELECT customer_id, channel, state, event_time, source
    FROM (SELECT *, row_number() OVER (PARTITION BY customer_id, channel
                                       ORDER BY event_time DESC, state = 'revoked' DESC, strength DESC,
                                                source DESC, source_record_id DESC) AS rank
          FROM ordered
          WHERE NOT (state = 'granted' AND strength < $explicit_strength AND protected_before))
    WHERE rank = 1
)
SELECT customer_id,
       max(state) FILTER (WHERE channel = 'email') AS email_consent,
       max(event_time) FILTER (WHERE channel = 'email') AS email_consent_at,
       max(source) FILTER (WHERE channel = 'email') AS email_consent_source,
       max(state) FILTER (WHERE channel = 'sms') AS sms_consent,
       max(event_time) FILTER (WHERE channel = 'sms') AS sms_consent_at,
       max(source) FILTER (WHERE channel = 'sms') AS sms_consent_source
FROM winners
GROUP BY customer_id
