"""Which days a night with no new files loads again (lib/raw/reload.py): only those whose files
changed since their load, or whose reload would count an erased person's rows differently."""

import datetime as dt
import os

import duckdb
import pytest

from cdp_pipeline.lib.audit import queue_erasure, run_pending_erasures
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.raw.reload import days_to_reload

DAY1, DAY2 = "2026-10-01", "2026-10-02"
CRM = b"customer_id,first_name,email\n1,Anna,a@b.se\n2,Bo,b@c.se\n"


@pytest.fixture
def con(cdp_env):
    c = duckdb.connect(str(cdp_env.build_db))
    yield c
    c.close()


def drop(landing, day, name, data):
    p = landing / "crm" / day / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_a_day_whose_files_are_as_loaded_is_not_loaded_again(cdp_env, con):
    for day in (DAY1, DAY2):
        drop(cdp_env.landing_dir, day, "customers.csv", CRM)
        load_partition(con, cdp_env.landing_dir, "crm", day, settings=cdp_env)
    assert days_to_reload(con, cdp_env.landing_dir, [DAY1, DAY2]) == []


def test_a_day_with_a_new_changed_or_removed_file_or_never_loaded_is_loaded_again(cdp_env, con):
    for day in (DAY1, DAY2):
        drop(cdp_env.landing_dir, day, "customers.csv", CRM)
        load_partition(con, cdp_env.landing_dir, "crm", day, settings=cdp_env)
    landing = cdp_env.landing_dir
    drop(landing, DAY2, "late.csv", CRM)  # a file landed since
    assert days_to_reload(con, landing, [DAY1, DAY2]) == [DAY2]
    (landing / "crm" / DAY2 / "late.csv").unlink()
    # the same size, rewritten after its load
    later = (dt.datetime.now() + dt.timedelta(minutes=5)).timestamp()
    os.utime(drop(landing, DAY1, "customers.csv", CRM.replace(b"Anna", b"Anne")), (later, later))
    assert days_to_reload(con, landing, [DAY1, DAY2]) == [DAY1]
    (landing / "crm" / DAY1 / "customers.csv").unlink()  # gone
    assert days_to_reload(con, landing, [DAY1, DAY2]) == [DAY1]
    assert days_to_reload(con, landing, ["2026-10-03"]) == ["2026-10-03"]  # never loaded


def test_a_day_loaded_before_an_erasure_is_loaded_again_and_after_its_reload_not(cdp_env, con):
    drop(cdp_env.landing_dir, DAY1, "customers.csv", CRM)
    load_partition(con, cdp_env.landing_dir, "crm", DAY1, settings=cdp_env)
    queue_erasure("b@c.se", cdp_env.inbox_dir)
    run_pending_erasures(con, cdp_env)
    # the reload counts the erased row as suppressed at ingest, not as erased: it is not the same
    assert days_to_reload(con, cdp_env.landing_dir, [DAY1]) == [DAY1]
    load_partition(con, cdp_env.landing_dir, "crm", DAY1, settings=cdp_env)
    assert days_to_reload(con, cdp_env.landing_dir, [DAY1]) == []


def test_without_a_ledger_every_day_is_loaded(cdp_env, con):
    drop(cdp_env.landing_dir, DAY1, "customers.csv", CRM)
    assert days_to_reload(con, cdp_env.landing_dir, [DAY1]) == [DAY1]
