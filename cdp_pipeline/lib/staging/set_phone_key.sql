-- phonenumbers' country calling codes (a pattern matching a "+" and one at the start) and the
-- default region, as the one variable the phone lookup's key macros of macros.sql read, with
-- what the phone macros read numbers of the default region with (phone.sql_reading) and
-- junk.py's runs of digits. Set on each connection by register_udfs.
SET VARIABLE phone_key = $phone_key;
