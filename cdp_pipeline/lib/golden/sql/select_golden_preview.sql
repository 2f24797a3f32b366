-- Show the five biggest spenders of golden.customers for the materialisation's preview.
SELECT customer_id, first_name, last_name, email, orders_count, total_spend, rfm_segment, email_consent, sms_consent
FROM golden.customers
ORDER BY total_spend DESC, customer_id
LIMIT 5
