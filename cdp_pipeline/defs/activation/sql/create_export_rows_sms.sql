-- sms rows (exporter.build_rows): the phone as golden holds it is the key and is written raw, so a
-- phone that is not E.164 ($e164) gets no row.
CREATE OR REPLACE TEMP TABLE export_rows AS
SELECT customer_id, phone AS row_key,
       '{"phone": ' || export_json_string(phone) || ', "tags": '
           || export_json_string(array_to_string(list_filter($segments::VARCHAR[],
                                                             lambda s: list_contains(segments, s)), ','))
           || '}' AS row_values,
       false AS sent_email, true AS sent_phone
FROM gated_candidates
WHERE phone IS NOT NULL AND regexp_matches(phone, $e164)
