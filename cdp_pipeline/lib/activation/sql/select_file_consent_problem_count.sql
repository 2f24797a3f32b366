-- How many problems consent_gate.unconsented_file_values would find in an export file ($path), counted in
-- DuckDB: rows with no identifier, and identifiers that golden.customers ({allowed}) does not allow, neither
-- as they are nor without the neutralising prefix ($strip_prefix). DuckDB's CSV reader is strict (a field
-- count, quote or encoding it is unsure of is an error, and the caller reads the file in Python). {columns}
-- names the file's columns c0, c1, ...; {values} lists the identifier columns ($kinds), each stripped as
-- Python's str.strip() does (consent_check_strip); '' stands for a column the file lacks.
WITH file_values AS MATERIALIZED (
    SELECT {values} AS vals
    FROM read_csv($path, header = true, columns = {columns}, delim = ',', quote = '"', escape = '"',
                  auto_detect = false, strict_mode = true, null_padding = false, comment = '', skip = 0)
),
identifiers AS (
    SELECT unnest($kinds::VARCHAR[]) AS identifier_kind, unnest(vals) AS value FROM file_values
),
-- only the file's kinds are looked up: the join's table then holds those, not every kind of {allowed}
allowed AS MATERIALIZED (
    SELECT identifier_kind, value FROM {allowed} WHERE list_contains($kinds::VARCHAR[], identifier_kind)
),
-- values not allowed as they are (usually none): only these are looked up again without the prefix
unmatched AS MATERIALIZED (
    SELECT identifier_kind, value FROM identifiers AS v
    WHERE v.value <> ''
      AND NOT EXISTS (SELECT 1 FROM allowed AS a WHERE a.identifier_kind = v.identifier_kind AND a.value = v.value)
)
SELECT (SELECT count(*) FROM file_values WHERE len(list_filter(vals, lambda v: v <> '')) = 0)
     + (SELECT count(*) FROM unmatched AS v
        WHERE NOT EXISTS (SELECT 1 FROM allowed AS a
                          WHERE a.identifier_kind = v.identifier_kind
                            AND a.value = CASE WHEN starts_with(v.value, $strip_prefix)
                                               THEN substr(v.value, length($strip_prefix) + 1) ELSE v.value END))
