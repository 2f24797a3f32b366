-- Fingerprint the signals of every identifier (lib/golden/incremental.py): a ledger row is a function of its identifier's signals alone, so only an identifier whose fingerprint changed needs its row settled again.
CREATE OR REPLACE TEMP TABLE _golden_identifier_hashes AS
SELECT channel, identifier, count(*) AS signals,
       sum(hash(channel, identifier, state, reason, event_time, source, source_record_id, strength)) AS signals_hash
FROM _golden_identifier_signals(CAST($cutoff AS TIMESTAMP), $default_strength, $protected_strength)
GROUP BY channel, identifier
