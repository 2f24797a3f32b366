-- Values of an export file (registered as consent_check_values: line, position, identifier_kind, value)
-- that are not an identifier golden.customers allows ({allowed}), neither as they are nor without the
-- neutralising prefix ($strip_prefix) the file may have put in front of them.
SELECT line, position
FROM consent_check_values AS v
WHERE NOT EXISTS (SELECT 1 FROM {allowed} AS a WHERE a.identifier_kind = v.identifier_kind AND a.value = v.value)
  AND NOT EXISTS (SELECT 1 FROM {allowed} AS a
                  WHERE a.identifier_kind = v.identifier_kind
                    AND a.value = CASE WHEN starts_with(v.value, $strip_prefix)
                                       THEN substr(v.value, length($strip_prefix) + 1) ELSE v.value END)
ORDER BY line, position
