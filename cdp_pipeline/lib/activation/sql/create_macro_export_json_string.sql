-- A string as JSON text, exactly as Python's json.dumps(ensure_ascii=False) writes it (the form
-- activation.export_members stores): 'null' for NULL; a plain string in SQL; the rare string with a
-- quote, a backslash or a control character through Python's own encoder (DuckDB's to_json writes
-- \u001B where Python writes \u001b, so it would not give the same bytes).
CREATE OR REPLACE TEMP MACRO export_json_string(s) AS
    CASE WHEN s IS NULL THEN 'null'
         WHEN regexp_matches(s, '[\x00-\x1f"\\]') THEN export_py_json_string(s)
         ELSE '"' || s || '"' END
