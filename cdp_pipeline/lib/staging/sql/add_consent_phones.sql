-- A step of staging.consent_events: adds to staging.phone_lookup the numbers of the CRM rows
-- and Klaviyo profiles it does not hold a reading of yet (keyed by std_phone_text and
-- std_phone_country: lib/staging/phone_lookup.py), read as create_consent_events.sql reads
-- them (crm_raw, klaviyo_rows). phonenumbers runs at most once per new key.
INSERT INTO staging.phone_lookup
WITH texts AS MATERIALIZED (
    SELECT DISTINCT std_phone_text(raw_phone) AS phone_text, raw_country
    FROM (SELECT phone AS raw_phone, country AS raw_country FROM temp.raw_crm_customers WHERE phone IS NOT NULL
          UNION
          SELECT phone, coalesce(nullif(trim(cc), ''), country) FROM temp.raw_esp_members
          WHERE phone IS NOT NULL AND nullif(trim(klaviyo_id), '') IS NOT NULL AND nullif(trim(status), '') IS NULL)
),
-- each distinct country read once (a few values over every number), not once per number
countries AS MATERIALIZED (
    SELECT raw_country, std_country(raw_country) AS hint
    FROM (SELECT DISTINCT raw_country FROM texts WHERE raw_country IS NOT NULL)
)
SELECT phone_text, country, checked.value, checked.flags, checked.is_junk
FROM (
    SELECT p.phone_text, p.country, std_phone_key_checked_junk(p.phone_text, p.country) AS checked
    FROM (SELECT DISTINCT t.phone_text, std_phone_country(t.phone_text, c.hint) AS country
          FROM texts t LEFT JOIN countries c USING (raw_country)) p
    ANTI JOIN staging.phone_lookup l ON l.phone_text = p.phone_text AND l.country IS NOT DISTINCT FROM p.country
)
