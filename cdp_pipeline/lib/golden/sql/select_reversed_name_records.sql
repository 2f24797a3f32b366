-- The records whose first and last name another record of the same customer carries the other way round ("Lindberg Eva" beside "Eva Lindberg"): the candidates of survivorship's unswapped_name rule, which the name tables then judge (survivorship.mark_swapped_names). A junk name, or a first name equal to the last name, is no evidence.
SELECT a.rowid AS _row, a.first_name, a.last_name
FROM {records} AS a
WHERE a.first_name IS NOT NULL AND a.last_name IS NOT NULL
  AND NOT coalesce(a.name_is_junk, false)
  AND lower(a.first_name) <> lower(a.last_name)
  AND EXISTS (SELECT 1 FROM {records} AS b
              WHERE b.customer_id = a.customer_id
                AND lower(b.first_name) = lower(a.last_name)
                AND lower(b.last_name) = lower(a.first_name)
                AND NOT coalesce(b.name_is_junk, false))
ORDER BY _row
