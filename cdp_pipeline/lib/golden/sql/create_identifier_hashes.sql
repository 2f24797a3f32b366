-- Fingerprint the signals of every identifier (lib/golden/incremental.py): a ledger row is a function of its identifier's signals alone, so only an identifier whose fingerprint changed needs its row settled again.
-- A revocation counted at the cutoff (dated after it) adds the time it counts at: its fingerprint changes every
-- night until the cutoff passes its own time, so its row is settled again as a whole build would settle it.
CREATE OR REPLACE TEMP TABLE _golden_identifier_hashes AS
SELECT channel, identifier, count(*) AS signals,
       sum(CASE WHEN event_time = given_time
                THEN hash(channel, identifier, state, reason, event_time, source, source_record_id, strength)
                ELSE hash(channel, identifier, state, reason, event_time, source, source_record_id, strength, given_time)
           END) AS signals_hash
FROM _golden_identifier_signals(CAST($cutoff AS TIMESTAMP), $default_strength, $protected_strength)
GROUP BY channel, identifier
