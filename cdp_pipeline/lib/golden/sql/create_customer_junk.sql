-- List, per customer, the email addresses and phone numbers flagged junk on any of their records: a survived value among them is not contactable.
CREATE OR REPLACE TEMP TABLE _golden_junk AS
SELECT m.customer_id,
       list_distinct(list(r.email) FILTER (WHERE r.email_is_junk)) AS junk_emails,
       list_distinct(list(r.phone) FILTER (WHERE r.phone_is_junk)) AS junk_phones
FROM {customer_map} AS m
JOIN {identity_records} AS r ON r.source = m.source AND r.source_record_id = m.source_record_id
WHERE r.email_is_junk OR r.phone_is_junk
GROUP BY m.customer_id
