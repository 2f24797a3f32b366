-- For each customer with an address or number granted in the consent ledger by an implied signal alone (a checkout tick box), those identifiers and the explicit ledger rows of every address or number on the customer's records: create_golden_customer_rows reads from them whether a protected opt-out of the person came before the tick box.
-- The customer's consent is the ledger's row of their golden address or number, except that a tick box does not lift
-- the person's own unsubscribe (or STOP, cleaning, bounce) of another of their addresses made before it: the rule the
-- ledger applies per address, applied to the person's addresses together, from the ledger's rows alone (one source of truth).
-- Only customers with an implied grant are read (at 1M a few thousand ledger rows), not every record against the ledger.
CREATE OR REPLACE TEMP TABLE _golden_consent_vetoes AS
WITH implied AS (
    SELECT l.channel, l.identifier
    FROM {ledger} AS l
    LEFT JOIN {strengths} AS k ON k.reason = l.reason
    WHERE l.consent = 'granted' AND coalesce(k.strength, $default_strength) < $explicit_strength
),
customers AS (
    SELECT r.customer_id FROM {records} AS r JOIN implied AS i ON i.channel = 'email' AND i.identifier = r.email
    UNION
    SELECT r.customer_id FROM {records} AS r JOIN implied AS i ON i.channel = 'sms' AND i.identifier = r.phone
),
identifiers AS (
    SELECT r.customer_id, 'email' AS channel, r.email AS identifier
    FROM {records} AS r SEMI JOIN customers AS c USING (customer_id) WHERE r.email IS NOT NULL
    UNION
    SELECT r.customer_id, 'sms', r.phone
    FROM {records} AS r SEMI JOIN customers AS c USING (customer_id) WHERE r.phone IS NOT NULL
)
SELECT i.customer_id, i.channel,
       list(i.identifier ORDER BY i.identifier)
           FILTER (WHERE l.consent = 'granted' AND coalesce(k.strength, $default_strength) < $explicit_strength) AS implied,
       -- sorted as the ledger ranks signals: time, a revocation after a grant, strength; then source for one order
       -- p: a protected opt-out (unsubscribe, STOP, cleaning, bounce, suppression)
       list(struct_pack(t := l.event_at, r := (l.consent = 'revoked'), s := coalesce(k.strength, $default_strength),
                        src := l.source,
                        p := (l.consent = 'revoked' AND coalesce(k.strength, $default_strength) >= $protected_strength))
            ORDER BY l.event_at, l.consent = 'revoked', coalesce(k.strength, $default_strength), l.source)
           FILTER (WHERE coalesce(k.strength, $default_strength) >= $explicit_strength) AS explicit_rows
FROM identifiers AS i
JOIN {ledger} AS l ON l.channel = i.channel AND l.identifier = i.identifier
LEFT JOIN {strengths} AS k ON k.reason = l.reason
GROUP BY i.customer_id, i.channel
