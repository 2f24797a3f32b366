-- Close the open stays of customers no longer in the segment's membership.
UPDATE segments.history AS h SET exited_at = $run_date
WHERE h.exited_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM segments.membership AS m
                  WHERE m.segment = h.segment AND m.customer_id = h.customer_id)
