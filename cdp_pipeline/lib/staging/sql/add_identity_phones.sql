-- A step of staging.identity_records, after temp.identity_records_phone_texts: adds to
-- staging.phone_lookup the records' numbers it does not hold a reading of yet, keyed by
-- std_phone_text and std_phone_country (lib/staging/phone_lookup.py);
-- create_identity_records.sql joins them. phonenumbers runs at most once per new key.
INSERT INTO staging.phone_lookup
SELECT phone_text, country, checked.value, checked.flags, checked.is_junk
FROM (
    SELECT p.phone_text, p.country, std_phone_key_checked_junk(p.phone_text, p.country) AS checked
    FROM (SELECT DISTINCT phone_text, key_country AS country FROM temp.identity_records_phone_texts) p
    ANTI JOIN staging.phone_lookup l ON l.phone_text = p.phone_text AND l.country IS NOT DISTINCT FROM p.country
)
