-- Gather every consent signal about an email address or phone number before a cutoff, whatever customer carries it, with its strength: the input of the consent ledger.
-- A table macro: create_identifier_consent settles the ledger from its rows, create_identifier_hashes fingerprints them per identifier.
-- A revocation dated at or after the cutoff (clock skew, a wrong year, a time-zone error) counts at the cutoff
-- (event_time): where in doubt an opt-out counts, so it blocks tonight; given_time keeps its own time (the ledger's
-- event_at). A grant dated after the cutoff grants nothing until its time.
CREATE OR REPLACE TEMP MACRO _golden_identifier_signals(signals_cutoff, default_strength, protected_strength) AS TABLE
SELECT channel, identifier, state, reason, least(given_time, CAST(signals_cutoff AS TIMESTAMP)) AS event_time,
       source, source_record_id, strength, given_time
FROM (
    SELECT c.channel, c.identifier, c.state, c.reason, c.event_time AS given_time, c.source, c.source_record_id,
           coalesce(k.strength, default_strength) AS strength
    FROM {consent_events} AS c
    LEFT JOIN {strengths} AS k ON k.reason = c.reason
    WHERE (c.event_time < CAST(signals_cutoff AS TIMESTAMP) OR (c.state = 'revoked' AND c.event_time IS NOT NULL))
      AND c.state IN ('granted', 'revoked') AND c.identifier IS NOT NULL
    UNION ALL
    -- A bounce says the address does not work: not the person's decision (it is not in
    -- staging.consent_events), but nothing may be sent to the address until a later explicit grant.
    SELECT 'email', a.email, 'revoked', 'bounce', a.event_time, a.source, a.source_record_id, protected_strength
    FROM {email_activity} AS a
    WHERE a.action = 'bounce' AND a.email IS NOT NULL AND a.event_time IS NOT NULL
)
