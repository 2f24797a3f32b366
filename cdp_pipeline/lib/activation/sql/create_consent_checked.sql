-- The consent gate's verdict on each identifier (lib/activation/consent_gate.py): temp table {table}, the
-- rows of {candidates} with email_ok (email consent, NULL counting as no, and the address not blocked in
-- the consent ledger {ledger}: its own latest signal is an opt-out, bounce, cleaning or STOP, on whatever
-- customer) and sms_ok (the same for SMS consent and the number). golden's side is taken in its export
-- form (export_email, export_strip: lib/activation/identifiers.py), the form rows are built from and the
-- check compares. A verdict depends on the customer alone: the night takes it once for the members of
-- every destination's segments (exporter.ExportAudience), create_gated_candidates.sql applies it.
CREATE OR REPLACE TEMP TABLE {table} AS
SELECT c.*,
       c.email_contactable IS TRUE
           AND NOT EXISTS (SELECT 1 FROM {ledger} AS l
                           WHERE l.blocked AND l.channel = 'email' AND l.identifier = export_email(c.email))
           AS email_ok,
       c.sms_contactable IS TRUE
           AND NOT EXISTS (SELECT 1 FROM {ledger} AS l
                           WHERE l.blocked AND l.channel = 'sms' AND l.identifier = export_strip(c.phone))
           AS sms_ok
FROM {candidates} AS c
