-- Gather every identity record with the customer it resolved to, and whether its address and number are blocked in the consent ledger (NULL: no ledger row): the candidates survivorship and the identifier lists work from.
-- record_row_hash: the hash of the whole identity record (NULL without one), from which a whole build writes golden._record_state (create_record_state_from_records).
CREATE OR REPLACE TEMP TABLE _golden_records AS
SELECT m.customer_id, m.source, m.source_record_id, r.record_time,
       r.first_name, r.last_name, r.email, r.phone, r.street, r.postcode, r.city, r.country, r.birth_date,
       r.loyalty_card_id, r.crm_customer_id, r.web_user_id, r.cookies,
       r.email_is_junk, r.phone_is_junk, r.name_is_junk, r.dq_flags,
       -- true blocked, false granted, NULL no ledger row (prefer_contactable ranks granted, then no row, then blocked)
       le.blocked AS email_blocked, lp.blocked AS phone_blocked,
       CASE WHEN r.source_record_id IS NOT NULL THEN hash(r) END AS record_row_hash
FROM {customer_map} AS m
LEFT JOIN {identity_records} AS r
       ON r.source = m.source AND r.source_record_id = m.source_record_id
LEFT JOIN {ledger} AS le ON le.channel = 'email' AND le.identifier = r.email
LEFT JOIN {ledger} AS lp ON lp.channel = 'sms' AND lp.identifier = r.phone
