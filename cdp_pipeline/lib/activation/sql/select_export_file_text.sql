-- The data lines of one file as one text, when Python's csv module writes every cell of it as it is:
-- each row's cells (select_export_file_cells.sql's) joined by ',', each line ended by '\n', in order;
-- NULL when a cell holds a character that could need quoting ($csv_special: exporter.CSV_SPECIAL), and
-- the number of rows. One text instead of a Python tuple per row rendered by the csv module: the
-- same bytes (exporter.py writes the file of a NULL text from the cells).
WITH cells AS (
    SELECT position,
           list_transform(range(1, len($paths::VARCHAR[]) + 1),
                          lambda i: coalesce(export_cell(v[i], $raw[i], $formula_prefix), '')) AS cells
    FROM (SELECT position, json_extract_string(row_values, $paths::VARCHAR[]) AS v
          FROM export_file_rows WHERE file_kind = $file_kind)
)
SELECT CASE WHEN NOT coalesce(bool_or(list_bool_or(list_transform(cells, lambda c: regexp_matches(c, $csv_special)))),
                              false)
            THEN coalesce(string_agg(array_to_string(cells, ',') || chr(10), '' ORDER BY position), '') END,
       count(*)
FROM cells
