-- Read the as-of date golden.customers was last built for, so checks use the same cutoff.
SELECT max(as_of_date) FROM golden.customers
