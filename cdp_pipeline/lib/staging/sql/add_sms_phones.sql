-- A step of staging.identity_records and staging.sms_messages: adds to staging.phone_lookup
-- the customers' numbers of temp.raw_sms_messages it does not hold a reading of yet, read in
-- no country (keyed by std_phone_text and std_phone_country: lib/staging/phone_lookup.py). The
-- number is the sender of an inbound message, else the recipient, without a channel prefix
-- (`whatsapp:+27…`), as create_sms_messages.sql and create_identity_records_located.sql read
-- it. std_phone_text reads each number once; phonenumbers runs at most once per new key.
INSERT INTO staging.phone_lookup
SELECT phone_text, country, checked.value, checked.flags, checked.is_junk
FROM (
    SELECT p.phone_text, p.country, std_phone_key_checked_junk(p.phone_text, p.country) AS checked
    FROM (SELECT phone_text, std_phone_country(phone_text, NULL) AS country
          FROM (SELECT DISTINCT std_phone_text(raw_phone) AS phone_text
                -- each number once (a number is on every message to it: 370k messages, 82k numbers)
                FROM (SELECT DISTINCT regexp_replace(
                                 CASE WHEN lower(trim(direction)) LIKE 'inbound%' THEN "from" ELSE "to" END,
                                 '^\s*[A-Za-z]+:', '') AS raw_phone
                      FROM temp.raw_sms_messages)
                WHERE raw_phone IS NOT NULL)) p
    ANTI JOIN staging.phone_lookup l ON l.phone_text = p.phone_text AND l.country IS NOT DISTINCT FROM p.country
)
