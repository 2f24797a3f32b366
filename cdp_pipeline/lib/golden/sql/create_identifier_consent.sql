-- Settle each email address's and phone number's own consent (of every identifier, or of those an incremental build names) from every signal about it before the cutoff, whatever customer carries it: the latest signal wins (a revocation wins a tie), but an implied grant does not lift a protected opt-out.
CREATE OR REPLACE TEMP TABLE _golden_identifier_consent AS
WITH signals AS (
    -- every signal (temp macro _golden_identifier_signals), or those of the identifiers to settle again
    SELECT * FROM _golden_identifier_signals(CAST($cutoff AS TIMESTAMP), $default_strength, $protected_strength) {restrict}
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
