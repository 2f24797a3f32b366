-- The rowids of the golden records whose first and last name are swapped (swapped), and of those carrying the same two names in the right order (NOT swapped): survivorship.mark_swapped_names; the unswapped_name rule ranks the first after the customer's other records and the second before them.
CREATE OR REPLACE TEMP TABLE {target} AS
SELECT unnest(CAST($wrong AS BIGINT[])) AS _row, true AS swapped
UNION ALL
SELECT unnest(CAST($right AS BIGINT[])), false
