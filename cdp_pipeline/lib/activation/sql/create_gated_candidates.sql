-- The consent gate (lib/activation/consent_gate.py): drop a customer without every consent the
-- destination requires, then blank an email without email consent and a phone without SMS consent,
-- and any address or number blocked in the consent ledger, so no row built after it can carry them,
-- plain or hashed. {checked}: the candidates with the gate's verdict on their identifiers, email_ok
-- and sms_ok (create_consent_checked.sql).
CREATE OR REPLACE TEMP TABLE gated_candidates AS
SELECT customer_id,
       CASE WHEN email_ok THEN email END AS email,
       CASE WHEN sms_ok THEN phone END AS phone,
       first_name, loyalty_card_ids, segments
FROM {checked}
WHERE (NOT $need_email OR email_ok)
  AND (NOT $need_sms OR sms_ok)
  AND NOT $need_unknown_channel
