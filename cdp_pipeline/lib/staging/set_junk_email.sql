-- junk.py's placeholder e-mail local parts and its no-reply and junk-domain patterns, as the
-- one variable the e-mail macros of macros.sql read. Set on each connection by register_udfs.
SET VARIABLE junk_email = $junk_email;
