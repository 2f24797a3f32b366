-- The run date: the day golden.customers' traits describe (NULL when golden is empty).
SELECT max(as_of_date)::DATE AS run_date FROM golden.customers
