-- Check: rows of each destination's latest export whose customer is gone or lacks a consent the row needs,
-- or that carry an address or number blocked in the consent ledger (golden.identifier_consent).
-- {customers}: every golden customer's export forms, consent flags and whether the ledger blocks its address
-- or number (create_consented_customers.sql), so the members are judged from flags; only the members that
-- break a rule (usually none) are joined to the ledger again, which keeps a problem's line repeated once per
-- matching ledger row, as a join of every member to the ledger would.
WITH blocked AS (
    SELECT channel, identifier FROM golden.identifier_consent WHERE blocked
),
latest AS (
    SELECT destination, run_date, any_value(required_consent) AS required_consent
    FROM activation.export_log AS l
    WHERE run_date = (SELECT max(run_date) FROM activation.export_log AS x WHERE x.destination = l.destination)
    GROUP BY destination, run_date
),
breaking AS MATERIALIZED (
    SELECT m.destination, m.customer_id, m.sent_email, m.sent_phone, l.required_consent,
           c.customer_id AS golden_id, c.email_consent, c.sms_consent, c.export_email, c.export_phone
    FROM activation.export_members AS m
    JOIN latest AS l USING (destination, run_date)
    LEFT JOIN {customers} AS c USING (customer_id)
    WHERE c.customer_id IS NULL
       OR (list_contains(l.required_consent, 'email') AND NOT c.email_consent)
       OR (list_contains(l.required_consent, 'sms') AND NOT c.sms_consent)
       OR (m.sent_email AND NOT c.email_consent)
       OR (m.sent_phone AND NOT c.sms_consent)
       OR (m.sent_email AND c.email_blocked)
       OR (m.sent_phone AND c.phone_blocked)
)
SELECT b.destination, b.customer_id,
       CASE WHEN b.golden_id IS NULL THEN 'not in golden.customers (erased or merged)'
            WHEN list_contains(b.required_consent, 'email') AND NOT b.email_consent
                THEN 'destination requires email consent'
            WHEN list_contains(b.required_consent, 'sms') AND NOT b.sms_consent
                THEN 'destination requires SMS consent'
            WHEN b.sent_email AND NOT b.email_consent THEN 'email sent without email consent'
            WHEN b.sent_phone AND NOT b.sms_consent THEN 'phone sent without SMS consent'
            WHEN b.sent_email AND be.identifier IS NOT NULL THEN 'email blocked in golden.identifier_consent'
            ELSE 'phone blocked in golden.identifier_consent' END AS problem
FROM breaking AS b
LEFT JOIN blocked AS be ON be.channel = 'email' AND be.identifier = b.export_email
LEFT JOIN blocked AS bp ON bp.channel = 'sms' AND bp.identifier = b.export_phone
ORDER BY b.destination, b.customer_id
LIMIT 1000
