-- Hold the strength of each consent reason (lib/golden/consent.py) where the consent statement can join it.
CREATE OR REPLACE TEMP TABLE _golden_consent_strengths AS
SELECT unnest($reasons) AS reason, unnest($strengths) AS strength
