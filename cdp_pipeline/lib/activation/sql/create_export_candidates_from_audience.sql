-- One destination's candidates taken from the night's audience ({audience}: create_export_audience.sql,
-- with the gate's verdict: create_consent_checked.sql): the members of the destination's $segments,
-- with email_ok and sms_ok. A member's segments keep their order (sorted)
-- when the other destinations' are left out; a member of none of $segments is no candidate.
CREATE OR REPLACE TEMP TABLE export_candidates AS
SELECT customer_id, email, phone, first_name, loyalty_card_ids, email_contactable, sms_contactable, segments,
       email_ok, sms_ok
FROM (SELECT * REPLACE (list_filter(segments, lambda s: list_contains($segments::VARCHAR[], s)) AS segments)
      FROM {audience})
WHERE len(segments) > 0
