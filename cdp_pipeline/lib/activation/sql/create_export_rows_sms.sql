-- sms rows (the tests' reference_rows.build_rows): the phone in its export form (export_strip: trimmed, as the consent
-- gate and check compare it) is the key and is written raw, so a phone that is not E.164 ($e164) gets no row.
CREATE OR REPLACE TEMP TABLE export_rows AS
WITH c AS (
    SELECT customer_id, export_strip(phone) AS phone, segments FROM gated_candidates
)
SELECT customer_id, phone AS row_key,
       '{"phone": ' || export_json_string(phone) || ', "tags": '
           || export_json_string(array_to_string(list_filter($segments::VARCHAR[],
                                                             lambda s: list_contains(segments, s)), ','))
           || '}' AS row_values,
       false AS sent_email, true AS sent_phone
FROM c
WHERE phone IS NOT NULL AND regexp_matches(phone, $e164)
