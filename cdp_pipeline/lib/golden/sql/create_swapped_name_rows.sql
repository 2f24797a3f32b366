-- The rowids of the golden records whose first and last name are swapped (survivorship.mark_swapped_names): the unswapped_name rule ranks them after the customer's other records.
CREATE OR REPLACE TEMP TABLE {target} AS
SELECT unnest(CAST($rows AS BIGINT[])) AS _row
