-- pos rows (the tests' reference_rows.build_rows): one row per distinct trimmed loyalty card, keyed by the card, with
-- a 0/1 flag per destination segment. $keys are the row's keys in json.dumps(sort_keys=True) order
-- and $keys_json their JSON text; a key among $segments is a flag, the other is the card.
CREATE OR REPLACE TEMP TABLE export_rows AS
WITH cards AS (
    SELECT DISTINCT customer_id, export_strip(card) AS card, segments
    FROM (SELECT customer_id, unnest(loyalty_card_ids) AS card, segments FROM gated_candidates)
)
SELECT customer_id, card AS row_key,
       '{' || array_to_string(list_transform(range(1, len($keys::VARCHAR[]) + 1), lambda i:
                  $keys_json[i] || ': ' || CASE WHEN NOT list_contains($segments::VARCHAR[], $keys[i])
                                                THEN export_json_string(card)
                                                WHEN list_contains(segments, $keys[i]) THEN '1'
                                                ELSE '0' END), ', ') || '}' AS row_values,
       false AS sent_email, false AS sent_phone
FROM cards
WHERE card <> ''
