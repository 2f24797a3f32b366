-- Every golden customer, to be copied into the predicate sandbox.
SELECT * FROM golden.customers ORDER BY customer_id
