-- The sources of {records} (a table of records), distinct and sorted as list_sort sorts them: create_customer_identifiers
-- gathers each customer's sources as a bit mask of their positions in this list. NULL above 64 sources (a mask has 64
-- bits): create_customer_identifiers then gathers them as a list, as it did before.
CREATE OR REPLACE TEMP TABLE _golden_record_sources AS
SELECT CASE WHEN count(*) <= 64 THEN list_sort(list(source)) END AS sources
FROM (SELECT DISTINCT source FROM {records} WHERE source IS NOT NULL)
