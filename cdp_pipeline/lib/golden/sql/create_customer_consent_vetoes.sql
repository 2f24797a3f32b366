-- For each customer with an address or number granted in the consent ledger by an implied signal alone (a checkout tick box), those identifiers and the explicit ledger rows of every address or number on the customer's records (with each implied one's own latest explicit signal): create_golden_customer_rows reads from them whether a protected opt-out of the person came last before the tick box.
-- The customer's consent is the ledger's row of their golden address or number, except that a tick box does not lift
-- the person's own unsubscribe (or STOP, cleaning, bounce) of another of their addresses made before it: the rule the
-- ledger applies per address, applied to the person's addresses together, from the ledger and its input (one source of truth).
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
-- An implied-granted address's own latest explicit signal (a grant, or an opt-out no protected one: else the
-- ledger would not have let the tick box decide), from the ledger's input: it is not the deciding row, but
-- a protected opt-out of another address before it was answered by it, so it does not veto the tick box.
own AS (
    SELECT s.channel, s.identifier,
           arg_max(struct_pack(t := s.given_time, r := (s.state = 'revoked'), s := s.strength, src := s.source,
                               p := false),
                   struct_pack(t := s.event_time, r := (s.state = 'revoked'), s := s.strength)) AS latest
    FROM _golden_identifier_signals(CAST($cutoff AS TIMESTAMP), $default_strength, $protected_strength) AS s
    SEMI JOIN implied AS i ON i.channel = s.channel AND i.identifier = s.identifier
    WHERE s.strength >= $explicit_strength
    GROUP BY s.channel, s.identifier
),
identifiers AS (
    SELECT r.customer_id, 'email' AS channel, r.email AS identifier
    FROM {records} AS r SEMI JOIN customers AS c USING (customer_id) WHERE r.email IS NOT NULL
    UNION
    SELECT r.customer_id, 'sms', r.phone
    FROM {records} AS r SEMI JOIN customers AS c USING (customer_id) WHERE r.phone IS NOT NULL
)
SELECT customer_id, channel, implied,
       -- with each implied-granted address's own latest explicit signal, in the same order
       list_sort(list_concat(coalesce(explicit_rows, []), coalesce(own_rows, []))) AS explicit_rows
FROM (
SELECT i.customer_id, i.channel,
       list(i.identifier ORDER BY i.identifier)
           FILTER (WHERE l.consent = 'granted' AND coalesce(k.strength, $default_strength) < $explicit_strength) AS implied,
       -- sorted as the ledger ranks signals: time, a revocation after a grant, strength; then source for one order
       -- p: a protected opt-out (unsubscribe, STOP, cleaning, bounce, suppression)
       list(struct_pack(t := l.event_at, r := (l.consent = 'revoked'), s := coalesce(k.strength, $default_strength),
                        src := l.source,
                        p := (l.consent = 'revoked' AND coalesce(k.strength, $default_strength) >= $protected_strength))
            ORDER BY l.event_at, l.consent = 'revoked', coalesce(k.strength, $default_strength), l.source)
           FILTER (WHERE coalesce(k.strength, $default_strength) >= $explicit_strength) AS explicit_rows,
       list(o.latest) FILTER (WHERE o.latest IS NOT NULL) AS own_rows
FROM identifiers AS i
JOIN {ledger} AS l ON l.channel = i.channel AND l.identifier = i.identifier
LEFT JOIN {strengths} AS k ON k.reason = l.reason
LEFT JOIN own AS o ON o.channel = i.channel AND o.identifier = i.identifier
GROUP BY i.customer_id, i.channel
)
