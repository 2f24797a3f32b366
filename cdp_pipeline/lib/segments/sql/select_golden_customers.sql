-- Every golden customer, to be copied into the predicate sandbox: only the columns the predicates read
-- (the asset fills in their quoted names).
SELECT {columns} FROM golden.customers ORDER BY customer_id
