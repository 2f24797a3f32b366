-- A step of staging.identity_records, after step 2 (temp.identity_records_named): each distinct
-- (raw number, country) of the records once, with the key staging.phone_lookup reads it by
-- (std_phone_text and std_phone_country: lib/staging/phone_lookup.py). add_identity_phones.sql
-- adds the keys the lookup lacks and create_identity_records.sql joins the lookup
-- by them: both read this table, so the text of a number is made once (357,444 pairs at 1M
-- records), not once in each.
CREATE OR REPLACE TEMP TABLE identity_records_phone_texts AS
SELECT raw_phone, country, phone_text, std_phone_country(phone_text, country) AS key_country
FROM (SELECT raw_phone, country, std_phone_text(raw_phone) AS phone_text
      -- each number and country once (a customer's number is on each of their records)
      FROM (SELECT DISTINCT raw_phone, country FROM temp.identity_records_named WHERE raw_phone IS NOT NULL))
