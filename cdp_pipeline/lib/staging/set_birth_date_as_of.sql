-- The latest birth date dates.check_birth_date accepts (its as_of: the data's date, else the day
-- of the call), as the variable std_birth_date_checked of macros.sql reads. Set on each
-- connection by register_udfs.
SET VARIABLE birth_date_as_of = CAST($as_of AS DATE);
