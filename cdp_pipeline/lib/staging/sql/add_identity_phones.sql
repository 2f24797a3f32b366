-- A step of staging.identity_records, after step 2 (temp.identity_records_named): adds to
-- staging.phone_lookup the records' numbers it does not hold a reading of yet, keyed by
-- std_phone_text and std_phone_country (lib/staging/phone_lookup.py);
-- create_identity_records_standardised.sql joins them. phonenumbers runs at most once per new key.
INSERT INTO staging.phone_lookup
SELECT phone_text, country, checked.value, checked.flags, checked.is_junk
FROM (
    SELECT p.phone_text, p.country, std_phone_key_checked_junk(p.phone_text, p.country) AS checked
    FROM (SELECT DISTINCT phone_text, std_phone_country(phone_text, country) AS country
          FROM (SELECT DISTINCT std_phone_text(raw_phone) AS phone_text, country
                -- each number and country once (a customer's number is on each of their records)
                FROM (SELECT DISTINCT raw_phone, country
                      FROM temp.identity_records_named WHERE raw_phone IS NOT NULL))) p
    ANTI JOIN staging.phone_lookup l ON l.phone_text = p.phone_text AND l.country IS NOT DISTINCT FROM p.country
)
