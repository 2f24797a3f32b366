-- Identifiers golden.customers allows to be exported, in every export form (own SQL, not the
-- exporter's), of the kinds the consent check compares export files with ($kinds): temp table {table},
-- each with its customer's two consent flags, so one build serves every destination's requirement
-- (create_consented_identifiers_for_need.sql picks a requirement's rows).
-- An address or number blocked in the consent ledger (golden.identifier_consent) is never allowed,
-- whatever golden.customers says of its customer: a row that bypasses the rule fails the check.
-- Identifiers are taken in the one form the exporter writes them in (export_email, export_strip:
-- lib/activation/identifiers.py), so a card golden holds as '\t4242' is allowed as the '4242' exported.
-- Each customer's identifiers are put in export form once (customers is materialised: inlined in
-- every branch below, the forms and the ledger look-ups were computed six times over).
CREATE OR REPLACE TEMP TABLE {table} AS
WITH blocked AS (
    SELECT channel, identifier FROM golden.identifier_consent WHERE blocked
),
export_forms AS (
    SELECT email IS NOT NULL AS has_email, phone IS NOT NULL AS has_phone,
           export_email(email) AS export_email, export_strip(phone) AS export_phone,
           loyalty_card_ids, email_contactable, sms_contactable
    FROM golden.customers
),
customers AS MATERIALIZED (
    SELECT * REPLACE (
               coalesce(email_contactable, false)
                   AND coalesce(export_email NOT IN (SELECT identifier FROM blocked WHERE channel = 'email'), true)
                   AS email_contactable,
               coalesce(sms_contactable, false)
                   AND coalesce(export_phone NOT IN (SELECT identifier FROM blocked WHERE channel = 'sms'), true)
                   AS sms_contactable)
    FROM export_forms
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
