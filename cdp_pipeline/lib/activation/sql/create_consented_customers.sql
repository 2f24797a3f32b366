-- Every golden customer's identifiers in the one form the exporter writes them in (own SQL, not the
-- exporter's: export_email, export_strip, lib/activation/identifiers.py), with its two consent flags and
-- whether the consent ledger (golden.identifier_consent) blocks its address or number: temp table {table},
-- one row per row of golden.customers (a repeated customer_id stays repeated). The consent check's two
-- readers take their identifiers and flags from it (create_consented_identifiers.sql: the identifiers a
-- destination may receive; select_unconsented_export_members.sql: the members that break a rule), so
-- each customer's export forms and ledger look-ups are computed once.
CREATE OR REPLACE TEMP TABLE {table} AS
WITH blocked AS (
    SELECT channel, identifier FROM golden.identifier_consent WHERE blocked
),
export_forms AS (
    SELECT customer_id, email IS NOT NULL AS has_email, phone IS NOT NULL AS has_phone,
           export_email(email) AS export_email, export_strip(phone) AS export_phone,
           loyalty_card_ids, email_contactable, sms_contactable
    FROM golden.customers
)
SELECT customer_id, has_email, has_phone, export_email, export_phone, loyalty_card_ids,
       coalesce(email_contactable, false) AS email_consent,
       coalesce(sms_contactable, false) AS sms_consent,
       -- found in the ledger's blocked identifiers (a NULL form, or a NULL in the ledger, blocks nothing)
       coalesce(export_email IN (SELECT identifier FROM blocked WHERE channel = 'email'), false) AS email_blocked,
       coalesce(export_phone IN (SELECT identifier FROM blocked WHERE channel = 'sms'), false) AS phone_blocked
FROM export_forms
