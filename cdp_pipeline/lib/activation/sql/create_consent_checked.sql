-- The consent gate's verdict on each identifier (lib/activation/consent_gate.py): temp table {table}, the
-- rows of {candidates} with email_ok (email consent, NULL counting as no, and the address not blocked in
-- the consent ledger {ledger}: its own latest signal is an opt-out, bounce, cleaning or STOP, on whatever
-- customer) and sms_ok (the same for SMS consent and the number). golden's side is taken in its export
-- form (export_email, export_strip: lib/activation/identifiers.py), the form rows are built from and the
-- check compares. A verdict depends on the customer alone: the night takes it once for the members of
-- every destination's segments (exporter.ExportAudience), create_gated_candidates.sql applies it.
-- Blocked is "found among the ledger's blocked identifiers of the channel" (a NULL form, or a NULL in the
-- ledger, blocks nothing), as a NOT EXISTS per row would say: one hash join per channel (an IN list),
-- half the CPU of a correlated NOT EXISTS at 1M records.
CREATE OR REPLACE TEMP TABLE {table} AS
WITH blocked AS (
    SELECT channel, identifier FROM {ledger} WHERE blocked
)
SELECT c.*,
       c.email_contactable IS TRUE
           AND NOT coalesce(export_email(c.email) IN (SELECT identifier FROM blocked WHERE channel = 'email'), false)
           AS email_ok,
       c.sms_contactable IS TRUE
           AND NOT coalesce(export_strip(c.phone) IN (SELECT identifier FROM blocked WHERE channel = 'sms'), false)
           AS sms_ok
FROM {candidates} AS c
