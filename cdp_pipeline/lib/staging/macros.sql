-- SQL macros over the standardisation functions: the forms of a value that plain SQL reads
-- exactly as the Python function does are read in SQL, and only the rest is handed to the
-- Python (DuckDB's CASE passes a function just the rows of its branch). The forms are narrow
-- on purpose: each gate admits only text the Python reads by the same rule, so the answers
-- are the Python's (test_sql_macros.py compares the two on the forms and their near misses).
-- The placeholder lists and patterns are junk.py's, in the variable junk_email that
-- register_udfs sets (set_junk_email.sql) before it creates these macros: DuckDB binds a
-- getvariable() as a constant where a query calls the macro, so the list is tested and the
-- patterns compiled once per query, as literals would be.

-- An e-mail address of ASCII letters, digits and . _ + - around one @, with at most spaces
-- around it: as_text and _clean only trim and lower-case it, and email._is_valid and
-- junk.is_junk_email reduce to the regular expressions below. Anything else (brackets,
-- mailto:, other scripts, inner spaces) goes to the Python.
-- The form (_std_email_ascii_form) and what email._is_valid accepts of it
-- (_std_email_ascii_valid) are read from the raw text itself, lower case and upper case
-- spelled out: a flag 'i' would let RE2 fold the Kelvin sign and the long s into k and s.
-- The local part is what precedes the one @, so one expression tests both parts; the
-- lengths are the trimmed address's (254) and its local part's (64).
CREATE OR REPLACE TEMP MACRO _std_email_ascii_form(raw) AS (
    regexp_full_match(raw, ' *[A-Za-z0-9._+-]+@[A-Za-z0-9._-]+ *')
);

CREATE OR REPLACE TEMP MACRO _std_email_ascii_valid(raw) AS (
    regexp_full_match(raw, ' *[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@([A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{1,58}[A-Za-z0-9]) *')
    AND length(trim(raw)) <= 254 AND strpos(ltrim(raw), '@') <= 65
);

-- junk.is_junk_email of a valid address of that form, lower-cased (local_base: its local
-- part before any '+'; domain: after the '@'). The placeholder local parts and the no-reply
-- forms are one pattern (local_pattern). A valid domain's first label begins and ends with a
-- letter or digit, so one character repeated everywhere (aaa@aaa.aa) needs the label's first
-- and last characters equal: the CASE tests the rest only then (a CASE's branch runs only for
-- its rows; a lambda's AND would compute both sides for every row).
CREATE OR REPLACE TEMP MACRO _std_email_junk_ascii(local_base, domain) AS (
    regexp_matches(local_base, getvariable('junk_email').local_pattern)
    OR regexp_matches(domain, getvariable('junk_email').domains)
    OR CASE
        WHEN length(local_base) <= 1 AND length(split_part(domain, '.', 1)) <= 1 THEN true
        WHEN left(domain, 1) = right(split_part(domain, '.', 1), 1)
            THEN list_transform([regexp_replace(local_base || split_part(domain, '.', 1), '[^a-z0-9]', '', 'g')],
                                lambda s: length(s) > 0 AND replace(s, left(s, 1), '') = '')[1]
        ELSE false
    END
);

-- STRUCT(value, flags), as check_email gives them. The lambdas bind the address, its local
-- part before any '+' and its domain once each (a macro's argument is computed again at each
-- use: 0.5 CPU s for the 326,192 distinct addresses of the 1M sample, against 0.36).
CREATE OR REPLACE TEMP MACRO std_email_checked(raw) AS (
    CASE
        WHEN _std_email_ascii_valid(raw) THEN list_transform([lower(trim(raw))], lambda a: list_transform(
            [{'local_base': split_part(split_part(a, '@', 1), '+', 1), 'domain': split_part(a, '@', 2)}],
            lambda p: {'value': a,
                       'flags': CASE WHEN _std_email_junk_ascii(p.local_base, p.domain)
                                     THEN ['junk_email'] ELSE []::VARCHAR[] END})[1])[1]
        WHEN _std_email_ascii_form(raw) THEN {'value': NULL::VARCHAR, 'flags': ['invalid_email']}
        ELSE std_email_checked_py(raw)
    END
);

-- check_email(raw).value alone: an address of the form above is kept when valid (the junk
-- checks only flag it), so the value skips them and the flags' lists.
CREATE OR REPLACE TEMP MACRO std_email(raw) AS (
    CASE
        WHEN _std_email_ascii_valid(raw) THEN lower(trim(raw))
        WHEN _std_email_ascii_form(raw) THEN NULL
        ELSE std_email_checked_py(raw).value
    END
);

CREATE OR REPLACE TEMP MACRO std_email_flags(raw) AS (std_email_checked(raw).flags);

-- A UTC offset written +HHMM as an interval (hours 00-23, minutes 00-59: the gates see to it).
CREATE OR REPLACE TEMP MACRO _std_utc_offset(text) AS (
    to_minutes(CAST((CASE WHEN left(text, 1) = '-' THEN -1 ELSE 1 END)
                    * (CAST(substr(text, 2, 2) AS INTEGER) * 60 + CAST(substr(text, 4, 2) AS INTEGER)) AS BIGINT))
);

-- parse_timestamp(raw, tz) (NULL tz: the default zone). SQL reads the text that says its own
-- offset (ISO 'YYYY-MM-DD HH:MM:SS +HHMM' and 'YYYY-MM-DDTHH:MM:SSZ', RFC 2822 'Mon, 16 Aug 2021
-- 12:00:00 +0000') and a plain 'YYYY-MM-DD HH:MM:SS' read in 'UTC'. A plain local time takes its
-- hour's UTC offset from zoneinfo (not from DuckDB's ICU, which resolves the repeated autumn
-- hour the other way and has another zone history before 1980). Years 1800-2099 only, so no
-- moment falls off the calendar when shifted to UTC. Blank text is no time. The rest goes to
-- the Python.
CREATE OR REPLACE TEMP MACRO std_timestamp(raw, tz) AS (
    CASE
        WHEN regexp_full_match(raw, '(1[89]|20)\d\d-\d\d-\d\d[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d( [+-]([01]\d|2[0-3])[0-5]\d|Z)')
            THEN try_strptime(substr(raw, 1, 10) || ' ' || substr(raw, 12, 8), '%Y-%m-%d %H:%M:%S')
                 - CASE WHEN substr(raw, 20, 1) = 'Z' THEN to_minutes(0) ELSE _std_utc_offset(right(raw, 5)) END
        WHEN tz = 'UTC' AND regexp_full_match(raw, '(1[89]|20)\d\d-\d\d-\d\d[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d')
            THEN try_strptime(substr(raw, 1, 10) || ' ' || substr(raw, 12, 8), '%Y-%m-%d %H:%M:%S')
        -- a local time: its hour's offset from the Python (dates.utc_offset_of_hour), once per
        -- distinct hour; an hour with a daylight-saving change in it goes to the Python whole
        WHEN regexp_full_match(raw, '(1[89]|20)\d\d-\d\d-\d\d[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d')
            THEN coalesce(try_strptime(substr(raw, 1, 10) || ' ' || substr(raw, 12, 8), '%Y-%m-%d %H:%M:%S')
                          - to_seconds(std_utc_offset_py(substr(raw, 1, 10) || ' ' || substr(raw, 12, 2), tz)),
                          std_timestamp_py(raw, tz))
        WHEN regexp_full_match(raw, '(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (1[89]|20)\d\d ([01]\d|2[0-3]):[0-5]\d:[0-5]\d [+-]([01]\d|2[0-3])[0-5]\d')
            THEN try_strptime(substr(raw, 6, 20), '%d %b %Y %H:%M:%S') - _std_utc_offset(right(raw, 5))
        -- blank (as_text reads spaces alone as nothing) or none: no time, without a call of the
        -- Python (a function call per chunk of rows costs as much as the chunk's other work)
        WHEN raw IS NULL OR trim(raw) = '' THEN NULL
        ELSE std_timestamp_py(raw, tz)
    END
);

-- A date written with the day and month in either order (`03/04/2026`, `3.4.2026 10:00`,
-- `03-04-2026`): the form whose order the file decides (dates.py reads it day-first unless only
-- month-first fits). `_std_day_first_date`: it can only be day-first (a first number over 12);
-- `_std_month_first_date`: only month-first (a second number over 12). A file with the second
-- kind and none of the first is month-first (create_pos_month_first_files.sql).
-- The separator's place is looked at before the pattern: an ISO time ('2026-10-03 …') fails it
-- without a regular expression (the 1M sample's 1.39M receipt lines: ~0.002 against 0.08 CPU s).
CREATE OR REPLACE TEMP MACRO _std_either_order_date(raw) AS (
    (substr(raw, 2, 1) IN ('/', '.', '-') OR substr(raw, 3, 1) IN ('/', '.', '-'))
    AND regexp_matches(raw, '^\d{1,2}[./-]\d{1,2}[./-]\d{4}')
);
CREATE OR REPLACE TEMP MACRO _std_day_first_date(raw) AS (
    regexp_matches(raw, '^(1[3-9]|2\d|3[01])[./-]\d{1,2}[./-]\d{4}')
);
CREATE OR REPLACE TEMP MACRO _std_month_first_date(raw) AS (
    regexp_matches(raw, '^\d{1,2}[./-](1[3-9]|2\d|3[01])[./-]\d{4}')
);

-- A date of a month-first file (`month_first`) as std_timestamp and parse_date read it: its
-- month and day swapped (`04/03/2026` is 3 April there, `03/04/2026` to the reader, which reads
-- day-first); other text, and every value of another file, as it is.
CREATE OR REPLACE TEMP MACRO std_date_in_order(raw, month_first) AS (
    CASE WHEN month_first THEN regexp_replace(raw, '^\s*(\d{1,2})([./-])(\d{1,2})([./-])(\d{4})', '\3\2\1\4\5')
         ELSE raw END
);

-- The local hour of a time std_timestamp reads with std_utc_offset_py ('YYYY-MM-DD HH').
CREATE OR REPLACE TEMP MACRO std_local_hour(raw) AS (substr(raw, 1, 10) || ' ' || substr(raw, 12, 2));

-- std_timestamp(raw, tz), its local hour's offset given (`utc_offset`: std_utc_offset_py of
-- std_local_hour(raw) and tz, read once per distinct hour and joined by the caller): many
-- times on few hours (the 1M sample's 415k receipt times fall on 330 hours) then call no
-- Python per batch of rows. The local-time branch as std_timestamp's; the rest is std_timestamp.
CREATE OR REPLACE TEMP MACRO std_timestamp_at_offset(raw, tz, utc_offset) AS (
    CASE
        WHEN tz IS DISTINCT FROM 'UTC'
             AND regexp_full_match(raw, '(1[89]|20)\d\d-\d\d-\d\d[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d')
            THEN coalesce(try_strptime(substr(raw, 1, 10) || ' ' || substr(raw, 12, 8), '%Y-%m-%d %H:%M:%S')
                          - to_seconds(utc_offset),
                          std_timestamp_py(raw, tz))
        ELSE std_timestamp(raw, tz)
    END
);

-- parse_money(raw)[0] where the amount is plain ASCII digits with at most two decimals after
-- a point or a comma ('1234.50', '649,00', '99'): parse_money reads those as the number itself,
-- to the cent, and fourteen digits before the separator keep it under DECIMAL(18,2)'s limit.
-- Blank text is no amount. Thousands separators, currencies and signs go to the Python.
CREATE OR REPLACE TEMP MACRO std_money(raw) AS (
    CASE
        WHEN regexp_full_match(raw, '\d{1,14}([.,]\d\d)?') THEN CAST(replace(raw, ',', '.') AS DECIMAL(18, 2))
        WHEN raw IS NULL OR trim(raw) = '' THEN NULL  -- blank: no amount (as std_timestamp)
        ELSE std_money_py(raw)
    END
);

-- split_full_name(raw) (names.py) of a name of two or more words, each a capital and small
-- letters (ASCII or å ä ö), single spaces, none of them a particle (the variable
-- name_particles of set_name_particles.sql): display_name leaves such a name as it is (mixed
-- case, nothing to tidy), and it splits before its last word. Commas, particles, shouting,
-- initials, forms of address, suffixes, other letters go to the Python.
CREATE OR REPLACE TEMP MACRO _std_split_plain(raw) AS (
    length(raw) <= 200 AND regexp_full_match(raw, '[A-ZÅÄÖ][a-zåäö]+( [A-ZÅÄÖ][a-zåäö]+)+')
    AND NOT list_has_any(string_split(lower(raw), ' '), getvariable('name_particles'))
    -- a form of address in front or a generational suffix at the end (names.py _TITLES, _SUFFIXES)
    AND NOT regexp_matches(lower(raw), '^(mr|mrs|ms|miss|mx|dr|prof|herr|fru|fröken|frk) | (jr|sr|ii|iii|iv)$')
);

CREATE OR REPLACE TEMP MACRO std_split_first(raw) AS (
    CASE WHEN _std_split_plain(raw) THEN regexp_extract(raw, '^(.*) [^ ]+$', 1) ELSE std_split_first_py(raw) END
);

CREATE OR REPLACE TEMP MACRO std_split_last(raw) AS (
    CASE WHEN _std_split_plain(raw) THEN regexp_extract(raw, '[^ ]+$') ELSE std_split_last_py(raw) END
);

-- standardise_street(raw) (address.py) of a street of words of ASCII letters, å ä ö, digits
-- and . / - between single spaces, with a capital and a small letter: as_text leaves it as it
-- is, it has no comma to space, and it is neither shouted nor whispered, so it is its own
-- display form. Anything else goes to the Python.
CREATE OR REPLACE TEMP MACRO std_street(raw) AS (
    CASE
        WHEN regexp_full_match(raw, '[0-9A-Za-zÅÄÖåäö./-]+( [0-9A-Za-zÅÄÖåäö./-]+)*')
             AND regexp_matches(raw, '[A-ZÅÄÖ]') AND regexp_matches(raw, '[a-zåäö]') THEN raw
        ELSE std_street_py(raw)
    END
);

-- A phone number written as ASCII digits, spaces and hyphens after an optional "+" (as most
-- sources write them: 070-123 45 67, +46 70 123 45 67): phone._read_phone keeps only that "+"
-- and the digits of such text, so the macros hand the Python those alone
-- (check_written_phone_junk), which skips its text checks and makes every way of writing one
-- number one distinct value. NULL for any other text (longer than phone._MAX_RAW_LENGTH,
-- brackets, dots, letters, other scripts): that goes to the Python as written.
CREATE OR REPLACE TEMP MACRO _std_phone_written(raw) AS (
    CASE WHEN length(raw) <= 64 AND regexp_full_match(raw, ' *\+?[0-9][0-9 -]*')
         THEN CASE WHEN ltrim(raw, ' ') LIKE '+%' THEN '+' ELSE '' END || regexp_replace(raw, '[^0-9]', '', 'g')
    END
);

-- staging.phone_lookup keys a number by what phone.py reads it as (lib/staging/phone_lookup.py),
-- so one reading is one row. Its text: the "+" and digits of a number written as above, in
-- international form as phone._read_digits reads it (0046…, +0046… and +46… are one reading:
-- the "00" becomes "+", zeros after a "+" go; not 0000…, whose "+00…" would lose more zeros);
-- else the text as written. Each is read by std_phone_checked_junk as the raw text is.
CREATE OR REPLACE TEMP MACRO std_phone_text(raw) AS (
    list_transform([_std_phone_written(raw)], lambda w: CASE
        WHEN w LIKE '+00%' AND ltrim(substr(w, 2), '0') <> '' THEN '+' || ltrim(substr(w, 2), '0')
        WHEN w LIKE '00_%' AND w NOT LIKE '0000%' THEN '+' || substr(w, 3)
        ELSE coalesce(w, raw)
    END)[1]
);

-- Whether std_phone_text ``text`` is "+" and a country calling code (phone._has_country_code;
-- the codes: the variable phone_key of set_phone_key.sql) and more: read alike in every country.
CREATE OR REPLACE TEMP MACRO _std_phone_country_code(text) AS (
    length(text) <= 64 AND regexp_full_match(text, '\+[1-9][0-9]{2,}')
    AND regexp_matches(text, getvariable('phone_key').calling_codes)
);

-- The country of staging.phone_lookup's key for a number of std_phone_text ``text`` read in
-- country ``hint``: none for a number that starts with a calling code (read alike in every
-- country), none for the default region (a NULL hint reads in it), else the hint (a code
-- phonenumbers does not know reads in the default region too, but is keyed apart).
CREATE OR REPLACE TEMP MACRO std_phone_country(text, hint) AS (
    CASE WHEN _std_phone_country_code(text) THEN NULL::VARCHAR
         ELSE nullif(hint, getvariable('phone_key').default_region) END
);

-- Whether the digits ``s`` are one digit repeated (junk.junk_phone_digits).
CREATE OR REPLACE TEMP MACRO _std_phone_one_digit(s) AS (length(s) > 0 AND replace(s, left(s, 1), '') = '');

-- is_junk of a valid number (junk.junk_phone_digits): of its code and national number
-- ``digits``, and of its national number ``national`` (neither starts with 0).
CREATE OR REPLACE TEMP MACRO _std_phone_junk(digits, national) AS (
    _std_phone_one_digit(digits) OR _std_phone_one_digit(national)
    OR (length(digits) >= 6 AND contains(getvariable('phone_key').sequences, digits))
    OR (length(national) >= 6 AND contains(getvariable('phone_key').sequences, national))
    OR (length(national) >= 8 AND _std_phone_one_digit(substr(national, 3)))
);

-- STRUCT(value, flags, is_junk) as check_written_phone_junk gives it for ``w`` (from
-- _std_phone_written) read in ``hint``, for a valid mobile or fixed-line number written as "+",
-- a country calling code and the national number (any code: read alike in every region), or,
-- of the default region (read in that region: hint NULL or its code), as 0 and the national
-- number, as the national number alone, or as the code and the national number without the
-- "+"; NULL for any other (the Python reads it). The patterns and lengths are the library's
-- (phone_sql.py, in the variable phone_key): a national number of one of the lengths, not
-- starting with 0 (nothing for the library to strip), that matches the general pattern and
-- the mobile or fixed-line one with its lengths, is valid, and its E.164 form is "+", the code
-- and it.
-- (each getvariable() is bound as a constant, so the patterns are compiled once per query; a
-- lambda's parameter holding them would compile them per row)
CREATE OR REPLACE TEMP MACRO _std_phone_reading() AS (getvariable('phone_key').reading);

CREATE OR REPLACE TEMP MACRO _std_phone_international() AS (getvariable('phone_key').international);

-- "+", a code and a national number: each pattern has an alternative per code (phone_sql.py,
-- sql_international_reading); the national number after the code is the junk test's.
CREATE OR REPLACE TEMP MACRO _std_phone_sql_international(w) AS (
    CASE
        WHEN regexp_full_match(w, _std_phone_international().lengths)
             AND regexp_full_match(w, _std_phone_international().general)
             AND regexp_full_match(w, _std_phone_international().leading)
             AND NOT regexp_full_match(w, _std_phone_international().prefixed)
             AND ((regexp_full_match(w, _std_phone_international().mobile_lengths)
                   AND regexp_full_match(w, _std_phone_international().mobile))
                  OR (regexp_full_match(w, _std_phone_international().fixed_lengths)
                      AND regexp_full_match(w, _std_phone_international().fixed)))
            THEN {'value': w, 'flags': []::VARCHAR[],
                  'is_junk': _std_phone_junk(substr(w, 2),
                                             substr(w, length(regexp_extract(w, _std_phone_international().calling_codes, 1)) + 2))}
    END
);

-- The default region's forms without a "+" (phone_sql.py, sql_reading): the national number
-- of ``w`` read in ``hint``, for _std_phone_national_valid (NULL: no such form).
CREATE OR REPLACE TEMP MACRO _std_phone_national_digits(w, hint) AS (
    CASE
        WHEN _std_phone_reading().code = '' OR w LIKE '+%' THEN NULL
        WHEN hint IS NOT NULL AND hint <> getvariable('phone_key').default_region THEN NULL
        WHEN _std_phone_reading().national AND w LIKE '0%' THEN substr(w, 2)
        -- digits from 1 to 9: the national number, or the code and it when those digits are no
        -- national number of the region's general pattern (bare in sql_reading)
        WHEN NOT _std_phone_reading().bare OR w LIKE '0%' THEN NULL
        WHEN NOT starts_with(w, _std_phone_reading().code) THEN w
        WHEN NOT regexp_full_match(w, _std_phone_reading().general)
            THEN substr(w, length(_std_phone_reading().code) + 1)
    END
);

-- Whether the national number ``x`` is a valid mobile or fixed-line number of the region.
CREATE OR REPLACE TEMP MACRO _std_phone_national_valid(x) AS (
    regexp_full_match(x, '[1-9][0-9]*') AND list_contains(_std_phone_reading().lengths, length(x))
    AND regexp_full_match(x, _std_phone_reading().general)
    AND ((_std_phone_reading().mobile <> ''
          AND (len(_std_phone_reading().mobile_lengths) = 0
               OR list_contains(_std_phone_reading().mobile_lengths, length(x)))
          AND regexp_full_match(x, _std_phone_reading().mobile))
         OR (_std_phone_reading().fixed <> ''
             AND (len(_std_phone_reading().fixed_lengths) = 0
                  OR list_contains(_std_phone_reading().fixed_lengths, length(x)))
             AND regexp_full_match(x, _std_phone_reading().fixed)))
);

-- STRUCT(value, flags, is_junk) of a valid one (the lambda names the national number once;
-- its patterns are small: compiled again per chunk of rows, they cost ~1 ms a chunk)
CREATE OR REPLACE TEMP MACRO _std_phone_sql_national(w, hint) AS (
    list_transform([_std_phone_national_digits(w, hint)], lambda x: CASE
        WHEN _std_phone_national_valid(x)
            THEN {'value': '+' || _std_phone_reading().code || x, 'flags': []::VARCHAR[],
                  'is_junk': _std_phone_junk(_std_phone_reading().code || x, x)}
    END)[1]
);

-- its value alone (std_phone): no junk test, no struct
CREATE OR REPLACE TEMP MACRO _std_phone_sql_national_value(w, hint) AS (
    list_transform([_std_phone_national_digits(w, hint)], lambda x: CASE
        WHEN _std_phone_national_valid(x) THEN '+' || _std_phone_reading().code || x
    END)[1]
);

-- the two readings above, by the form of ``w``
CREATE OR REPLACE TEMP MACRO _std_phone_sql(w, hint) AS (
    CASE WHEN w LIKE '+%' THEN _std_phone_sql_international(w) ELSE _std_phone_sql_national(w, hint) END
);

-- check_phone(raw, default region, hint).value (a NULL hint: the default region); a number of
-- the default region's national forms read in SQL (after a "+": std_phone_key_checked_junk)
CREATE OR REPLACE TEMP MACRO std_phone(raw, hint) AS (
    list_transform([_std_phone_written(raw)], lambda w: CASE
        WHEN w IS NULL THEN std_phone_py(raw, hint)
        ELSE coalesce(_std_phone_sql_national_value(w, hint), std_written_phone_py(w, hint))
    END)[1]
);

-- STRUCT(value, flags, is_junk), as check_phone_junk gives them
CREATE OR REPLACE TEMP MACRO std_phone_checked_junk(raw, hint) AS (
    list_transform([_std_phone_written(raw)], lambda w: CASE
        WHEN w IS NULL THEN std_phone_checked_junk_py(raw, hint)
        ELSE coalesce(_std_phone_sql_national(w, hint), std_written_phone_checked_junk_py(w, hint))
    END)[1]
);

-- std_phone_checked_junk of a key of staging.phone_lookup (std_phone_text ``text``, its
-- country), as the steps adding to the lookup read them (add_*_phones.sql): a number written
-- "+" and digits alone is read after any country code too (_std_phone_sql_international).
-- That reading is here only, outside a lambda: DuckDB compiles a pattern once per query, but a
-- lambda's again for each chunk of rows (there _std_phone_sql took 5 times the CPU), and the
-- patterns of every code take ~40 ms a query to compile (too long for a query per value:
-- std_phone and std_phone_checked_junk, which tests and fallbacks call on a few values).
-- Digits alone are their own _std_phone_written: read by _std_phone_sql_national directly,
-- not in std_phone_checked_junk's lambda around it (a fifth less CPU on the 1M night's keys).
CREATE OR REPLACE TEMP MACRO std_phone_key_checked_junk(text, hint) AS (
    CASE
        WHEN length(text) <= 64 AND regexp_full_match(text, '\+[0-9]+')
            THEN coalesce(_std_phone_sql_international(text), std_written_phone_checked_junk_py(text, hint))
        WHEN length(text) <= 64 AND regexp_full_match(text, '[0-9]+')
            THEN coalesce(_std_phone_sql_national(text, hint), std_written_phone_checked_junk_py(text, hint))
        ELSE std_phone_checked_junk(text, hint)
    END
);

-- STRUCT(value, flags), as check_postcode(raw, country, default region) gives them. SQL reads a
-- postcode of ASCII digits alone (after a spreadsheet's apostrophe; 123 45 with its one space)
-- of its country's length, for a country that writes them so, given as its code: there
-- address._postcode_for keeps the digits (Sweden: 123 45, and never a leading 0). A shorter
-- one (a dropped leading zero), another country, a country name or none goes to the Python.
CREATE OR REPLACE TEMP MACRO std_postcode_checked(raw, country) AS (
    CASE
        WHEN country IN ('SE', 'FI', 'DE', 'EE', 'FR', 'ES', 'IT') AND regexp_full_match(raw, '''?[0-9]{3} ?[0-9]{2}')
            THEN list_transform([replace(ltrim(raw, ''''), ' ', '')], lambda d: CASE
                WHEN country <> 'SE' THEN {'value': d, 'flags': []::VARCHAR[]}
                WHEN left(d, 1) = '0' THEN {'value': NULL::VARCHAR, 'flags': ['invalid_postcode']}
                ELSE {'value': left(d, 3) || ' ' || right(d, 2), 'flags': []::VARCHAR[]}
            END)[1]
        WHEN country IN ('DK', 'NO') AND regexp_full_match(raw, '''?[0-9]{4}')
            THEN {'value': ltrim(raw, ''''), 'flags': []::VARCHAR[]}
        ELSE std_postcode_checked_py(raw, country)
    END
);

-- check_birth_date(raw, as_of) of a date written YYYY-MM-DD, YYYYMMDD or DD.MM.YYYY (ASCII
-- digits, a year from 1000, nothing around it) that is a day of the calendar: parse_date reads
-- those forms as that day (the day-first form is tried first; only an impossible one is read
-- month-first, by the Python). It is kept between 1900-01-01 and as_of (the variable
-- birth_date_as_of of set_birth_date_as_of.sql), else flagged impossible_birth_date. Other
-- forms, and impossible days, go to the Python.
CREATE OR REPLACE TEMP MACRO std_birth_date_checked(raw) AS (
    list_transform([CAST(CASE
        WHEN regexp_full_match(raw, '[1-9]\d\d\d-\d\d-\d\d') THEN try_strptime(raw, '%Y-%m-%d')
        WHEN regexp_full_match(raw, '[1-9]\d{7}') THEN try_strptime(raw, '%Y%m%d')
        WHEN regexp_full_match(raw, '\d\d\.\d\d\.[1-9]\d\d\d') THEN try_strptime(raw, '%d.%m.%Y')
    END AS DATE)], lambda day: CASE
        WHEN day IS NULL THEN std_birth_date_checked_py(raw)
        WHEN day BETWEEN DATE '1900-01-01' AND getvariable('birth_date_as_of') THEN {'value': day, 'flags': []::VARCHAR[]}
        ELSE {'value': NULL::DATE, 'flags': ['impossible_birth_date']}
    END)[1]
);
