-- The cells of one file, in order: each column's value as text, neutralised unless the column is raw.
-- One SQL column per file column ({cells} is cells[1], cells[2], ...): Python fetches rows of plain
-- values several times faster than rows holding a list.
SELECT {cells}
FROM (SELECT position, list_transform(range(1, len($paths::VARCHAR[]) + 1),
                                      lambda i: export_cell(v[i], $raw[i], $formula_prefix)) AS cells
      FROM (SELECT position, json_extract_string(row_values, $paths::VARCHAR[]) AS v
            FROM export_file_rows WHERE file_kind = $file_kind))
ORDER BY position
