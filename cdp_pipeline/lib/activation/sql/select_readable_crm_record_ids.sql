-- CRM record ids each of the given files delivered in a row that could be read.
SELECT DISTINCT _file, ltrim(trim(customer_id), '''') AS record_id
FROM raw.crm_customers
WHERE list_contains($files::VARCHAR[], _file) AND nullif(trim(customer_id), '') IS NOT NULL
