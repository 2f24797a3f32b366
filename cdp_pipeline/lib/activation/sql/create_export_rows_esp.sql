-- esp rows (the tests' reference_rows.build_rows): the normalised email is the key and is written raw, so an address
-- that does not match SAFE_EMAIL ($safe_email) gets no row; tags are the destination's segments the
-- customer is in, in the destination's order.
CREATE OR REPLACE TEMP TABLE export_rows AS
WITH c AS (
    SELECT customer_id, export_email(email) AS email, first_name,
           array_to_string(list_filter($segments::VARCHAR[], lambda s: list_contains(segments, s)), ',') AS tags
    FROM gated_candidates
)
SELECT customer_id, email AS row_key,
       '{"email": ' || export_json_string(email) || ', "first_name": ' || export_json_string(first_name)
           || ', "tags": ' || export_json_string(tags) || '}' AS row_values,
       true AS sent_email, false AS sent_phone
FROM c
WHERE email IS NOT NULL AND regexp_matches(email, $safe_email)
