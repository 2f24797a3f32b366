-- The consent gate (lib/activation/consent_gate.py): drop a customer without every consent the
-- destination requires (NULL counts as no), then blank an email without email consent and a phone
-- without SMS consent, so no row built after it can carry them.
CREATE OR REPLACE TEMP TABLE gated_candidates AS
SELECT customer_id,
       CASE WHEN email_contactable IS TRUE THEN email END AS email,
       CASE WHEN sms_contactable IS TRUE THEN phone END AS phone,
       first_name, loyalty_card_ids, segments
FROM export_candidates
WHERE (NOT $need_email OR email_contactable IS TRUE)
  AND (NOT $need_sms OR sms_contactable IS TRUE)
  AND NOT $need_unknown_channel
