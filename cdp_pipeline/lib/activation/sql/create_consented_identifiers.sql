-- Identifiers golden.customers allows to be exported, in every export form (own SQL, not the
-- exporter's), of the kinds the consent check compares export files with ($kinds): temp table {table},
-- each with its customer's two consent flags, so one build serves every destination's requirement
-- (create_consented_identifiers_for_need.sql picks a requirement's rows).
-- An address or number blocked in the consent ledger (golden.identifier_consent) is never allowed,
-- whatever golden.customers says of its customer: a row that bypasses the rule fails the check.
-- Identifiers are taken in the one form the exporter writes them in (export_email, export_strip:
-- lib/activation/identifiers.py), so a card golden holds as '\t4242' is allowed as the '4242' exported.
CREATE OR REPLACE TEMP TABLE {table} AS
WITH blocked AS (
    SELECT channel, identifier FROM golden.identifier_consent WHERE blocked
),
customers AS (
    SELECT * REPLACE (
               coalesce(email_contactable, false)
                   AND coalesce(export_email(email) NOT IN (SELECT identifier FROM blocked WHERE channel = 'email'), true)
                   AS email_contactable,
               coalesce(sms_contactable, false)
                   AND coalesce(export_strip(phone) NOT IN (SELECT identifier FROM blocked WHERE channel = 'sms'), true)
                   AS sms_contactable)
    FROM golden.customers
),
identifiers AS (
    SELECT 'email' AS identifier_kind, export_email(email) AS value, email_contactable, sms_contactable
    FROM customers WHERE email_contactable AND email IS NOT NULL
    UNION ALL
    SELECT 'email_sha256', sha256(export_email(email)), email_contactable, sms_contactable
    FROM customers WHERE email_contactable AND email IS NOT NULL
    UNION ALL
    SELECT 'phone', export_strip(phone), email_contactable, sms_contactable
    FROM customers WHERE sms_contactable AND phone IS NOT NULL
    UNION ALL
    SELECT 'meta_phone_sha256', sha256(ltrim(export_strip(phone), '+')), email_contactable, sms_contactable
    FROM customers WHERE sms_contactable AND phone IS NOT NULL
    UNION ALL
    SELECT 'google_phone_sha256', sha256(export_strip(phone)), email_contactable, sms_contactable
    FROM customers WHERE sms_contactable AND phone IS NOT NULL
    UNION ALL
    SELECT 'loyalty_card_id', export_strip(unnest(loyalty_card_ids)), email_contactable, sms_contactable
    FROM customers WHERE loyalty_card_ids IS NOT NULL
)
SELECT identifier_kind, value, email_contactable, sms_contactable
FROM identifiers WHERE list_contains($kinds::VARCHAR[], identifier_kind)
