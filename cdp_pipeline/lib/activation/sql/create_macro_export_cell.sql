-- A CSV cell as csv_safe.render_csv writes it: '' for NULL, a raw column as it is, any other cell
-- prefixed with ' when it starts like a spreadsheet formula ($formula_prefix: csv_safe.FORMULA_PREFIX_RE2).
CREATE OR REPLACE TEMP MACRO export_cell(v, raw, formula_prefix) AS
    CASE WHEN v IS NULL THEN ''
         WHEN raw THEN v
         WHEN regexp_matches(v, formula_prefix) THEN '''' || v
         ELSE v END
