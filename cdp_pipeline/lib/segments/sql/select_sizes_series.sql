-- The size series for the chart and the metadata table.
SELECT run_date, segment, members FROM segments.sizes ORDER BY run_date, segment
