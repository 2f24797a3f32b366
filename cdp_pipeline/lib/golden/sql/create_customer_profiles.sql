-- Gather what a customer's records alone decide: survived attributes with provenance, and every identifier on the records.
-- {kind}: TABLE, or VIEW in a whole build, whose golden.customers statement then reads the survived view (and the
-- identifier aggregate under it) as part of itself: no temp table of 290k profiles written and read once.
CREATE OR REPLACE TEMP {kind} _golden_profiles AS
SELECT s.customer_id,
       s.first_name, s.first_name_source, s.first_name_source_record_id,
       s.last_name, s.last_name_source, s.last_name_source_record_id,
       s.email, s.email_source, s.email_source_record_id,
       s.phone, s.phone_source, s.phone_source_record_id,
       s.street, s.street_source, s.street_source_record_id,
       s.postcode, s.postcode_source, s.postcode_source_record_id,
       s.city, s.city_source, s.city_source_record_id,
       s.country, s.country_source, s.country_source_record_id,
       s.birth_date, s.birth_date_source, s.birth_date_source_record_id,
       s.emails, s.phones, s.loyalty_card_ids, s.crm_customer_ids, s.web_user_ids, s.cookies, s.sources,
       s.record_count
FROM {survived} AS s
