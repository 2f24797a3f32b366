-- The consent gate (lib/activation/consent_gate.py): drop a customer without every consent the
-- destination requires (NULL counts as no), then blank an email without email consent and a phone
-- without SMS consent, and any address or number blocked in the consent ledger ({ledger}: its own
-- latest signal is an opt-out, bounce, cleaning or STOP, on whatever customer), so no row built after
-- it can carry them, plain or hashed. golden's side is taken in its export form (export_email,
-- export_strip: lib/activation/identifiers.py), the form rows are built from and the check compares.
CREATE OR REPLACE TEMP TABLE gated_candidates AS
WITH checked AS (
    SELECT c.*,
           c.email_contactable IS TRUE
               AND NOT EXISTS (SELECT 1 FROM {ledger} AS l
                               WHERE l.blocked AND l.channel = 'email' AND l.identifier = export_email(c.email))
               AS email_ok,
           c.sms_contactable IS TRUE
               AND NOT EXISTS (SELECT 1 FROM {ledger} AS l
                               WHERE l.blocked AND l.channel = 'sms' AND l.identifier = export_strip(c.phone))
               AS sms_ok
    FROM export_candidates AS c
)
SELECT customer_id,
       CASE WHEN email_ok THEN email END AS email,
       CASE WHEN sms_ok THEN phone END AS phone,
       first_name, loyalty_card_ids, segments
FROM checked
WHERE (NOT $need_email OR email_ok)
  AND (NOT $need_sms OR sms_ok)
  AND NOT $need_unknown_channel
