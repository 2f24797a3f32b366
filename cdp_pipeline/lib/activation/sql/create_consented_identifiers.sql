-- Identifiers golden.customers allows to be exported, in every export form (own SQL, not the
-- exporter's), of the kinds the consent check compares export files with ($kinds): temp table {table},
-- each with its customer's two consent flags, so one build serves every destination's requirement
-- (create_consented_identifiers_for_need.sql picks a requirement's rows).
-- An address or number blocked in the consent ledger (golden.identifier_consent) is never allowed,
-- whatever golden.customers says of its customer: a row that bypasses the rule fails the check.
-- {customers}: every customer's identifiers in export form, its consent flags and whether the ledger
-- blocks its address or number (create_consented_customers.sql), so a card golden holds as '\t4242' is
-- allowed as the '4242' exported, and each customer's forms and ledger look-ups are computed once.
CREATE OR REPLACE TEMP TABLE {table} AS
WITH customers AS (
    SELECT has_email, has_phone, export_email, export_phone, loyalty_card_ids,
           email_consent AND NOT email_blocked AS email_contactable,
           sms_consent AND NOT phone_blocked AS sms_contactable
    FROM {customers}
),
identifiers AS (
    SELECT 'email' AS identifier_kind, export_email AS value, email_contactable, sms_contactable
    FROM customers WHERE email_contactable AND has_email
    UNION ALL
    SELECT 'email_sha256', sha256(export_email), email_contactable, sms_contactable
    FROM customers WHERE email_contactable AND has_email
    UNION ALL
    SELECT 'phone', export_phone, email_contactable, sms_contactable
    FROM customers WHERE sms_contactable AND has_phone
    UNION ALL
    SELECT 'meta_phone_sha256', sha256(ltrim(export_phone, '+')), email_contactable, sms_contactable
    FROM customers WHERE sms_contactable AND has_phone
    UNION ALL
    SELECT 'google_phone_sha256', sha256(export_phone), email_contactable, sms_contactable
    FROM customers WHERE sms_contactable AND has_phone
    UNION ALL
    SELECT 'loyalty_card_id', export_strip(unnest(loyalty_card_ids)), email_contactable, sms_contactable
    FROM customers WHERE loyalty_card_ids IS NOT NULL
)
SELECT identifier_kind, value, email_contactable, sms_contactable
FROM identifiers WHERE list_contains($kinds::VARCHAR[], identifier_kind)
