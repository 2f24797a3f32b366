-- phonenumbers' country calling codes (a pattern matching a "+" and one at the start) and the
-- default region, as the one variable the phone lookup's key macros of macros.sql read. Set on
-- each connection by register_udfs.
SET VARIABLE phone_key = $phone_key;
