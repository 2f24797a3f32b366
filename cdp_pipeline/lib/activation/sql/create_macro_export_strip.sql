-- A value as Python's str.strip() leaves it (cards, phones before hashing): unchanged when it starts
-- and ends with a printable, non-space ASCII character; else through Python, whose idea of
-- whitespace is Unicode-wide.
CREATE OR REPLACE TEMP MACRO export_strip(raw) AS
    CASE WHEN raw IS NULL THEN NULL
         WHEN regexp_matches(raw, '^([!-~]([ -~]*[!-~])?)?$') THEN raw
         ELSE export_py_strip(raw) END
