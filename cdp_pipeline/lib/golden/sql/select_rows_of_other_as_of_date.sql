-- Count the golden rows whose rank columns were last set for another as-of date than tonight's: with none, and no row redone tonight, the ranks stand as they are.
SELECT count(*) FROM golden.customers WHERE as_of_date IS DISTINCT FROM CAST($as_of_date AS DATE)
