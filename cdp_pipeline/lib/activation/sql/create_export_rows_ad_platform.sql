-- meta_audience / google_customer_match rows (the tests' reference_rows.build_rows, lib/activation/hashing.py): SHA-256
-- hex of the normalised email, and of the trimmed E.164 phone without its '+' ($phone_without_plus:
-- Meta) or with it (Google). The key is the pair of hashes; a customer with neither gets no row.
-- The email column's name ($email_key_json) sorts before the phone's, as json.dumps(sort_keys=True) orders them.
CREATE OR REPLACE TEMP TABLE export_rows AS
WITH c AS (
    SELECT customer_id, export_email(email) AS email, export_strip(nullif(phone, '')) AS phone
    FROM gated_candidates
),
hashed AS (
    SELECT customer_id,
           CASE WHEN email IS NOT NULL THEN sha256(export_email(email)) END AS email_hash,
           CASE WHEN regexp_matches(phone, $e164)
                THEN sha256(CASE WHEN $phone_without_plus THEN substr(phone, 2) ELSE phone END) END AS phone_hash
    FROM c
)
SELECT customer_id, coalesce(email_hash, '') || '|' || coalesce(phone_hash, '') AS row_key,
       '{' || $email_key_json || ': "' || coalesce(email_hash, '') || '", '
           || $phone_key_json || ': "' || coalesce(phone_hash, '') || '"}' AS row_values,
       email_hash IS NOT NULL AS sent_email, phone_hash IS NOT NULL AS sent_phone
FROM hashed
WHERE email_hash IS NOT NULL OR phone_hash IS NOT NULL
