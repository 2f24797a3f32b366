-- Settle each email address's and phone number's own consent from every signal about it before the cutoff, whatever customer carries it: the latest signal wins (a revocation wins a tie), but an implied grant does not lift a protected opt-out.
CREATE OR REPLACE TEMP TABLE _golden_identifier_consent AS
WITH signals AS (
    SELECT c.channel, c.identifier, c.state, c.reason, c.event_time, c.source, c.source_record_id,
           coalesce(k.strength, $default_strength) AS strength
    FROM {consent_events} AS c
    LEFT JOIN {strengths} AS k ON k.reason = c.reason
    WHERE c.event_time < CAST($cutoff AS TIMESTAMP) AND c.state IN ('granted', 'revoked')
      AND c.identifier IS NOT NULL
    UNION ALL
    -- A bounce says the address does not work: not the person's decision (it is not in the
    -- customer's consent), but nothing may be sent to the address until a later explicit grant.
    SELECT 'email', a.email, 'revoked', 'bounce', a.event_time, a.source, a.source_record_id, $protected_strength
    FROM {email_activity} AS a
    WHERE a.action = 'bounce' AND a.email IS NOT NULL AND a.event_time < CAST($cutoff AS TIMESTAMP)
),
ordered AS (
    -- protected_before: the latest explicit signal before this one is a protected opt-out
    -- (the same rule as create_customer_consent.sql, per identifier instead of per customer).
    SELECT *,
           coalesce(last_value(CASE WHEN strength >= $explicit_strength
                                    THEN state = 'revoked' AND strength >= $protected_strength END IGNORE NULLS)
                    OVER (PARTITION BY channel, identifier
                          ORDER BY event_time, state = 'revoked', strength, source, source_record_id, reason
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS protected_before
    FROM signals
)
SELECT channel, identifier, state AS consent, state = 'revoked' AS blocked, reason, event_time AS event_at,
       source, source_record_id, signals
FROM (SELECT *,
             count(*) OVER (PARTITION BY channel, identifier) AS signals,
             row_number() OVER (PARTITION BY channel, identifier
                                ORDER BY event_time DESC, state = 'revoked' DESC, strength DESC,
                                         source DESC, source_record_id DESC, reason DESC) AS rank
      FROM ordered
      WHERE NOT (state = 'granted' AND strength < $explicit_strength AND protected_before))
WHERE rank = 1
ORDER BY channel, identifier
