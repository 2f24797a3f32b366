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
    -- Read only on an implied grant (the filter below), whose value comes from the explicit signals of
    -- earlier times alone, and signals equal in (time, revocation, strength) give the same value: so no
    -- string tie-breakers in the window's sort (source, source_record_id), which the winners' key has.
    SELECT *,
           coalesce(last_value(CASE WHEN strength >= $explicit_strength
                                    THEN state = 'revoked' AND strength >= $protected_strength END IGNORE NULLS)
                    OVER (PARTITION BY customer_id, channel
                          ORDER BY event_time, state = 'revoked', strength
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS protected_before
    FROM signals
),
winners AS (
    -- The latest signal per customer and channel that a protected opt-out does not veto, by the ranking
    -- row_number() over event_time DESC, revocation DESC, strength DESC, source DESC, source_record_id DESC
    -- would give: arg_max of that key in one hash aggregate per customer rather than a second sort
    -- (source and source_record_id are never NULL here: they matched the map). The key decides every output.
    SELECT customer_id,
           arg_max(struct_pack(state := state, event_time := event_time, source := source),
                   struct_pack(t := event_time, r := (state = 'revoked'), s := strength, src := source, id := source_record_id))
               FILTER (WHERE channel = 'email') AS email,
           arg_max(struct_pack(state := state, event_time := event_time, source := source),
                   struct_pack(t := event_time, r := (state = 'revoked'), s := strength, src := source, id := source_record_id))
               FILTER (WHERE channel = 'sms') AS sms
    FROM ordered
    WHERE NOT (state = 'granted' AND strength < $explicit_strength AND protected_before)
    GROUP BY customer_id
)
SELECT customer_id,
       email.state AS email_consent, email.event_time AS email_consent_at, email.source AS email_consent_source,
       sms.state AS sms_consent, sms.event_time AS sms_consent_at, sms.source AS sms_consent_source
FROM winners
