-- This run's size, entries and exits per defined segment.
INSERT INTO segments.sizes
SELECT $run_date::DATE, d.segment,
       (SELECT count(*) FROM segments.membership AS m WHERE m.segment = d.segment),
       (SELECT count(*) FROM segments.history AS h WHERE h.segment = d.segment AND h.entered_at = $run_date),
       (SELECT count(*) FROM segments.history AS h WHERE h.segment = d.segment AND h.exited_at = $run_date),
       d.status
FROM segments.definitions AS d
ORDER BY d.segment
