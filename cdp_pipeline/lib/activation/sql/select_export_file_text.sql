-- The data lines of one file as one text, as Python's csv module writes them (render_csv_cells' dialect):
-- each row's cells (select_export_file_cells.sql's) joined by ',', each line ended by '\n', in order; a
-- cell holding a character the module quotes it for (QUOTE_MINIMAL: a comma, a quote, a line feed) quoted,
-- its quotes doubled. NULL when a cell holds a character whose quoting depends on the Python version
-- (a carriage return: quoted by some versions, not by others; exporter.py then renders the file from the
-- cells with the csv module), and the number of rows. One text instead of a Python tuple per row: the
-- same bytes. contains() rather than a regular expression per cell: a quarter less CPU at 1M records.
WITH cells AS (
    SELECT position,
           list_transform(range(1, len($paths::VARCHAR[]) + 1),
                          lambda i: coalesce(export_cell(v[i], $raw[i], $formula_prefix), '')) AS cells
    FROM (SELECT position, json_extract_string(row_values, $paths::VARCHAR[]) AS v
          FROM export_file_rows WHERE file_kind = $file_kind)
)
SELECT CASE WHEN NOT coalesce(bool_or(list_bool_or(list_transform(cells, lambda c: contains(c, chr(13))))),
                              false)
            THEN coalesce(string_agg(array_to_string(list_transform(cells, lambda c:
                                         CASE WHEN contains(c, ',') OR contains(c, '"') OR contains(c, chr(10))
                                              THEN '"' || replace(c, '"', '""') || '"' ELSE c END), ',')
                                     || chr(10), '' ORDER BY position), '') END,
       count(*)
FROM cells
