-- The identifiers ({all}: create_consented_identifiers.sql) allowed to a destination that requires
-- email consent ({need_email}) and/or SMS consent ({need_sms}): those of customers who have it.
-- Temp view {table} (identifier_kind, value): a filter of {all}, not a copy of its rows.
CREATE OR REPLACE TEMP VIEW {table} AS
SELECT identifier_kind, value
FROM {all}
WHERE (NOT {need_email} OR email_contactable)
  AND (NOT {need_sms} OR sms_contactable)
