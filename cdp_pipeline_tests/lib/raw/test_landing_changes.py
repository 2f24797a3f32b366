"""Which landing days a `cdp run` loads: only those whose files differ from the ledger."""

import datetime as dt
import os

from cdp_pipeline.lib.raw.landing import changed_days


def _file(landing, rel, text="a,b\n1,2\n", mtime=None):
    p = landing / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    if mtime is not None:
        os.utime(p, (mtime, mtime))
    return p


def _ledger_row(landing, rel, loaded_at):
    p = landing / rel
    return rel, rel.split("/")[1], p.stat().st_size, loaded_at


def test_a_new_changed_or_removed_file_marks_its_day(tmp_path):
    landing = tmp_path / "landing"
    old = dt.datetime(2026, 1, 1).timestamp()
    loaded = dt.datetime(2026, 1, 2)  # UTC, after every file's modification time
    files = [
        "crm/2026-03-01/crm.csv",
        "esp/2026-03-01/members.csv",
        "pos/2026-03-02/orders.csv",
        "web/2026-03-03/events.jsonl",
    ]
    for rel in files:
        _file(landing, rel, mtime=old)
    ledger = [_ledger_row(landing, rel, loaded) for rel in files]
    assert changed_days(landing, ledger) == []

    _file(landing, "sms/2026-03-04/messages.csv", mtime=old)  # new file
    _file(landing, "pos/2026-03-02/orders.csv", "a,b\n1,2\n3,4\n", mtime=old)  # other size
    _file(landing, "crm/2026-03-01/crm.csv", "a,b\n9,9\n")  # same size, rewritten now
    (landing / "web/2026-03-03/events.jsonl").unlink()  # gone
    assert changed_days(landing, ledger) == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]


def test_with_no_ledger_every_day_is_new(tmp_path):
    landing = tmp_path / "landing"
    _file(landing, "crm/2026-03-01/crm.csv")
    _file(landing, "esp/2026-03-05/members.csv")
    _file(landing, "esp/2026-03-05/.members.csv.part")  # not ready yet: ignored
    assert changed_days(landing, []) == ["2026-03-01", "2026-03-05"]
