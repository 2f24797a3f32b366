"""What the operator does next when a check fails: a ``remedy`` in the failed check's metadata.

A failed check's figures say what is wrong (duplicated keys, rows without consent, where an erased
identifier was found); the remedy says what to do about it, so the operator reading the Dagster UI at
07:00 does not have to find the right section of docs/operations.md first. Every blocking check has
one (``test_remedies.py`` fails when a blocking check has none), and so do the ERROR checks that
say the warehouse cannot be trusted.
"""

from __future__ import annotations

REMEDIES = {
    # blocking: the run stops before publish, analysts keep yesterday's warehouse
    "key_is_unique": (
        "The run stopped before publish: analysts still see yesterday's warehouse. Find the duplicated keys in "
        "the build database (SELECT <key>, count(*) FROM staging.<table> GROUP BY ALL HAVING count(*) > 1) and "
        "their raw rows (raw.<table>._file, _line): usually one export written twice under two names, or a "
        "vendor export repeating ids. Fix or remove the landing file, then rerun its day (cdp run --day <day>; "
        "docs/operations.md 'Rerunning and backfilling a day')."
    ),
    "staged_exports_have_consent": (
        "The failed destinations (failed_destinations) kept their last passing export and the night did not "
        "publish; the other destinations were delivered. 'examples' and the step's log name the file and line. "
        "Upload nothing from exports/.staging/. Find why the row lacked consent (the destination's "
        "required_consent, a consent change in golden.identifier_consent), then rerun the night (cdp run); "
        "docs/operations.md 'Export staging: what an uploader sees'."
    ),
    "exported_rows_have_consent": (
        "A file in place (or activation.export_members) holds a row without the consent it needs, or a file "
        "changed since it was written: stop the uploads of the destinations 'examples' names, then rerun the "
        "night (cdp run), which rewrites their files from tonight's consent; if it fails again, the consent "
        "rule and the export disagree: report it with the examples (no customer values are shown)."
    ),
    "no_erased_identifiers_remain": (
        "Publish is blocked: an erased person is still in what 'where' names (table.column or file, never the "
        "value). A report or export file: delete or regenerate it. A table or the build database's bytes: rerun "
        "the night (cdp run), which erases again and rewrites the build database; if it stays, keep the "
        "warehouse unpublished and report it (docs/operations.md 'Handling an erasure request')."
    ),
    # ERROR, not blocking: the night publishes, but a figure cannot be trusted
    "ledger_balances": (
        "A file's rows read are not its rows loaded plus quarantined: compare audit.files with audit.quarantine "
        "for the file named in the metadata, then rerun its landing day (cdp run --day <day>); if the counts "
        "still differ, keep the file and report it."
    ),
    "money_in_one_currency": (
        "Orders in another currency add nothing to total_spend or average_order_value: the buyers counted in "
        "customers_with_such_orders have too little spend, top spenders and RFM's monetary score miss them. A "
        "shop that sells in that currency needs rates before its spend can mean anything; an unreadable "
        "currency is in staging.orders.dq_flags (order_values_read). When most orders are in another currency, "
        "warehouse_currency is wrong: set CDP_CURRENCY to the shop's currency (README, Configuration) and run again "
        "(staging and golden are rebuilt whole under a new one); else nothing to rerun."
    ),
}


def remedy(check_name: str, passed: bool) -> dict[str, str]:
    """``{"remedy": ...}`` for a failed check that has one, else nothing (a passing check needs no remedy)."""
    if passed or check_name not in REMEDIES:
        return {}
    return {"remedy": REMEDIES[check_name]}
