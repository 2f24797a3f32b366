-- Sum up golden.customers for the materialisation's metadata: consent per channel, contactable counts, spend.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE email_consent = 'granted') AS email_consent_granted,
       count(*) FILTER (WHERE email_consent = 'revoked') AS email_consent_revoked,
       count(*) FILTER (WHERE email_consent = 'unknown') AS email_consent_unknown,
       count(*) FILTER (WHERE sms_consent = 'granted') AS sms_consent_granted,
       count(*) FILTER (WHERE sms_consent = 'revoked') AS sms_consent_revoked,
       count(*) FILTER (WHERE sms_consent = 'unknown') AS sms_consent_unknown,
       count(*) FILTER (WHERE email_contactable) AS email_contactable,
       count(*) FILTER (WHERE sms_contactable) AS sms_contactable,
       count(*) FILTER (WHERE orders_count > 0) AS buyers,
       CAST(coalesce(sum(total_spend), 0) AS DOUBLE) AS total_spend
FROM golden.customers
