-- List, per customer, the email addresses and phone numbers flagged junk on any of their records: a survived value among them is not contactable.
-- {records}: the customers' identity records with their customer (customer_id, email, phone, email_is_junk, phone_is_junk);
-- a whole build's temp._golden_records, which holds them already (no second join of the map to the identity records).
CREATE OR REPLACE TEMP TABLE _golden_junk AS
SELECT r.customer_id,
       list_distinct(list(r.email) FILTER (WHERE r.email_is_junk)) AS junk_emails,
       list_distinct(list(r.phone) FILTER (WHERE r.phone_is_junk)) AS junk_phones
FROM {records} AS r
WHERE r.email_is_junk OR r.phone_is_junk
GROUP BY r.customer_id
