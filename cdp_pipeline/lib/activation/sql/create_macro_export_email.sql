-- An email as hashing.normalise_email gives it: trimmed, lower case, NULL without an '@'. Printable
-- ASCII without spaces (nearly every address) needs no trimming and lower() is ASCII lower case; any
-- other value goes through the Python function, whose strip() and lower() are Unicode-wide.
CREATE OR REPLACE TEMP MACRO export_email(raw) AS
    CASE WHEN raw IS NULL THEN NULL
         WHEN regexp_matches(raw, '^[!-~]*$') THEN CASE WHEN contains(raw, '@') THEN lower(raw) END
         ELSE export_py_normalise_email(raw) END
