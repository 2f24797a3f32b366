-- Step 2 of staging.identity_records: the records of step 1 (temp.identity_records_located)
-- with their countries, e-mail addresses, names, birth dates, streets and cities standardised.
-- The lookups and joins of the phones and postcodes are step 3
-- (create_identity_records.sql): all nine joins' hash tables at once needed more
-- memory than these and those in turn. The country reads the record's phone number and
-- postcode there (and in add_identity_phones.sql, the step between).
-- The standardisation functions are Python: each is called once per distinct value, which is
-- then joined back (a person's email is on their CRM, ESP and order records; a number is on
-- every message to it). The functions are pure, so this changes the speed, not the rows. A
-- *_checked function gives a value with its flags from one call. Addresses, timestamps and
-- birth dates are read in SQL where SQL gives the Python's answer (lib/staging/macros.sql);
-- phones, names and postcodes are Python.
-- Lookups are MATERIALIZED: else DuckDB pushes a filter on a result (phone IS NOT NULL) below
-- the DISTINCT and calls the function on every row again.
CREATE OR REPLACE TEMP TABLE identity_records_named AS
WITH countries AS MATERIALIZED (
    -- a few distinct values over every record
    SELECT raw_country, std_country(raw_country) AS country
    FROM (SELECT DISTINCT raw_country FROM temp.identity_records_located WHERE raw_country IS NOT NULL)
),
emails AS MATERIALIZED (
    -- check_email flags junk_email exactly when is_junk_email(its value) holds
    SELECT raw_email, checked.value AS email, checked.flags AS email_flags,
           list_contains(checked.flags, 'junk_email') AS email_is_junk
    FROM (SELECT raw_email, std_email_checked(raw_email) AS checked
          FROM (SELECT DISTINCT raw_email FROM temp.identity_records_located WHERE raw_email IS NOT NULL))
),
names AS MATERIALIZED (
    -- First and last names share one lookup (joined twice).
    SELECT *, std_match_name(name) AS name_match, is_junk_name(name) AS name_is_junk
    FROM (SELECT raw_name, std_display_name(raw_name) AS name
          FROM (SELECT raw_first AS raw_name FROM temp.identity_records_located
                UNION SELECT raw_last FROM temp.identity_records_located)
          WHERE raw_name IS NOT NULL)
),
birth_dates AS MATERIALIZED (
    SELECT raw_birth_date, checked.value AS birth_date, checked.flags AS birth_date_flags
    FROM (SELECT raw_birth_date, std_birth_date_checked(raw_birth_date) AS checked
          FROM (SELECT DISTINCT raw_birth_date FROM temp.identity_records_located WHERE raw_birth_date IS NOT NULL))
),
streets AS MATERIALIZED (
    SELECT raw_street, std_street(raw_street) AS street
    FROM (SELECT DISTINCT raw_street FROM temp.identity_records_located WHERE raw_street IS NOT NULL)
),
cities AS MATERIALIZED (
    SELECT raw_city, std_city(raw_city) AS city
    FROM (SELECT DISTINCT raw_city FROM temp.identity_records_located WHERE raw_city IS NOT NULL)
)
-- A NULL raw value finds no lookup row: its results are NULL, as the functions give for NULL.
-- Only the columns the later steps read: the raw values standardised here are not copied on
-- (l.* wrote seven more text columns of every record into this table: less to hold, or spill at
-- 10M records; at 1M the step's process peaked ~60 MB lower, its CPU 0.0-0.2 s less).
SELECT l.source, l.source_record_id, l.record_time, l.raw_phone, l.raw_postcode,
       l.loyalty_card_id, l.crm_customer_id, l.web_user_id, l.cookies,
       co.country,
       fn.name AS first_name, ln.name AS last_name,
       fn.name_match AS first_name_match,
       ln.name_match AS last_name_match,
       e.email, e.email_flags, e.email_is_junk,
       st.street, ci.city, b.birth_date, b.birth_date_flags,
       coalesce(fn.name_is_junk, false) OR coalesce(ln.name_is_junk, false) AS name_is_junk
FROM temp.identity_records_located l
LEFT JOIN countries co ON co.raw_country = l.raw_country
LEFT JOIN emails e ON e.raw_email = l.raw_email
LEFT JOIN names fn ON fn.raw_name = l.raw_first
LEFT JOIN names ln ON ln.raw_name = l.raw_last
LEFT JOIN birth_dates b ON b.raw_birth_date = l.raw_birth_date
LEFT JOIN streets st ON st.raw_street = l.raw_street
LEFT JOIN cities ci ON ci.raw_city = l.raw_city
