-- Check: rows of each destination's latest export whose customer is gone or lacks a consent the row needs,
-- or that carry an address or number blocked in the consent ledger (golden.identifier_consent).
WITH blocked AS (
    SELECT channel, identifier FROM golden.identifier_consent WHERE blocked
),
latest AS (
    SELECT destination, run_date, any_value(required_consent) AS required_consent
    FROM activation.export_log AS l
    WHERE run_date = (SELECT max(run_date) FROM activation.export_log AS x WHERE x.destination = l.destination)
    GROUP BY destination, run_date
)
SELECT m.destination, m.customer_id,
       CASE WHEN g.customer_id IS NULL THEN 'not in golden.customers (erased or merged)'
            WHEN list_contains(l.required_consent, 'email') AND NOT coalesce(g.email_contactable, false)
                THEN 'destination requires email consent'
            WHEN list_contains(l.required_consent, 'sms') AND NOT coalesce(g.sms_contactable, false)
                THEN 'destination requires SMS consent'
            WHEN m.sent_email AND NOT coalesce(g.email_contactable, false) THEN 'email sent without email consent'
            WHEN m.sent_phone AND NOT coalesce(g.sms_contactable, false) THEN 'phone sent without SMS consent'
            WHEN m.sent_email AND be.identifier IS NOT NULL THEN 'email blocked in golden.identifier_consent'
            ELSE 'phone blocked in golden.identifier_consent' END AS problem
FROM activation.export_members AS m
JOIN latest AS l USING (destination, run_date)
LEFT JOIN golden.customers AS g USING (customer_id)
LEFT JOIN blocked AS be ON be.channel = 'email' AND be.identifier = export_email(g.email)
LEFT JOIN blocked AS bp ON bp.channel = 'sms' AND bp.identifier = export_strip(g.phone)
WHERE g.customer_id IS NULL
   OR (list_contains(l.required_consent, 'email') AND NOT coalesce(g.email_contactable, false))
   OR (list_contains(l.required_consent, 'sms') AND NOT coalesce(g.sms_contactable, false))
   OR (m.sent_email AND NOT coalesce(g.email_contactable, false))
   OR (m.sent_phone AND NOT coalesce(g.sms_contactable, false))
   OR (m.sent_email AND be.identifier IS NOT NULL)
   OR (m.sent_phone AND bp.identifier IS NOT NULL)
ORDER BY m.destination, m.customer_id
LIMIT 1000
