-- Write the next membership computed in new_membership.
INSERT INTO segments.membership SELECT segment, customer_id, since, run_date FROM new_membership ORDER BY segment, customer_id
