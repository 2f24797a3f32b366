-- A file value as the consent check reads it, (value or '').strip() in Python: unchanged when it starts and
-- ends with a printable, non-space ASCII character (nothing str.strip() removes); else through Python
-- (consent_check_py_strip), whose idea of whitespace is Unicode-wide.
CREATE OR REPLACE TEMP MACRO consent_check_strip(raw) AS
    CASE WHEN raw IS NULL OR raw = '' THEN ''
         WHEN regexp_matches(raw, '^[!-~]') AND regexp_matches(raw, '[!-~]$') THEN raw
         ELSE consent_check_py_strip(raw) END
