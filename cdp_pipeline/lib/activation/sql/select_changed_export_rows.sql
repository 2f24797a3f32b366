-- Rows whose text differs from the previous export, for the value comparison diff_rows makes.
SELECT row_key, current_values, previous_values FROM export_delta WHERE change = 'changed' ORDER BY row_key
