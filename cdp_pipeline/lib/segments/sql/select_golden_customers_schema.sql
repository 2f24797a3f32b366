-- golden.customers' columns and types, no rows: the predicate sandbox's table and the guard's column list.
SELECT * FROM golden.customers LIMIT 0
