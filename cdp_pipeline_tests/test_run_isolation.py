"""`cdp run --landing --warehouse`: each warehouse has its own build state and exports.

Two runs in one data folder, each with its own landing folder and warehouse, must not see each
other: the second must not continue from the first one's build database (its people would get
customer IDs that belong to others) nor write into the first one's export folder."""

import hashlib
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline import cli
from cdp_pipeline.lib.common.run_state import SharedRunState, claim_run_state
from cdp_pipeline.lib.sample_data import generate_sample
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.conftest import point_cdp_at


def test_each_warehouse_gets_its_own_build_database_and_exports(cdp_env, monkeypatch, tmp_path):
    data = cdp_env.data_dir
    # the default warehouse keeps the folders it always had
    assert (cdp_env.warehouse, cdp_env.build_db, cdp_env.export_dir) == (
        data / "warehouse" / "cdp.duckdb",
        data / "warehouse" / "build" / "cdp_build.duckdb",
        data / "exports",
    )
    monkeypatch.setenv("CDP_WAREHOUSE", str(data / "warehouse" / "cdp.duckdb"))
    assert get_settings().build_db == cdp_env.build_db and get_settings().export_dir == cdp_env.export_dir
    seen = set()
    for warehouse in (data / "warehouse" / "b.duckdb", data / "warehouse" / "c.duckdb", tmp_path / "x" / "cdp.duckdb"):
        monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))
        s = get_settings()
        assert s.build_db == warehouse.parent / "build" / f"{warehouse.stem}_build.duckdb"
        assert s.export_dir == warehouse.parent / f"{warehouse.stem}_exports"
        seen |= {s.build_db, s.export_dir}
    assert len(seen) == 6 and not seen & {cdp_env.build_db, cdp_env.export_dir}


def test_a_run_refuses_a_build_database_or_export_folder_of_another_warehouse(cdp_env, monkeypatch, tmp_path):
    claim_run_state(cdp_env)
    claim_run_state(cdp_env)  # the same warehouse again: fine
    monkeypatch.setenv("CDP_WAREHOUSE", str(tmp_path / "other.duckdb"))
    monkeypatch.setenv("CDP_BUILD_DB", str(cdp_env.build_db))  # pointed at the first one's state by hand
    with pytest.raises(SharedRunState, match=r"build database .* holds the state of the warehouse .*cdp\.duckdb"):
        claim_run_state(get_settings())
    monkeypatch.delenv("CDP_BUILD_DB")
    monkeypatch.setenv("CDP_EXPORT_DIR", str(cdp_env.export_dir))
    with pytest.raises(SharedRunState, match="export folder"):
        claim_run_state(get_settings())
    # refused before anything was claimed: the other warehouse's own build database stays unclaimed
    assert not Path(str(get_settings().build_db) + ".warehouse").exists()


def test_a_data_folder_copied_as_a_whole_is_still_its_warehouse(cdp_env, monkeypatch, tmp_path):
    import shutil

    claim_run_state(cdp_env)
    copy = tmp_path / "copy"
    shutil.copytree(cdp_env.data_dir, copy / "data")
    monkeypatch.setenv("CDP_DATA_DIR", str(copy / "data"))
    claim_run_state(get_settings())  # no refusal: the owner is recorded relative to the state


def test_cdp_run_says_why_it_refuses(cdp_env, monkeypatch, tmp_path, capsys):
    generate_sample(cdp_env.landing_dir, customers=20, days=1, seed=3, truth_file=tmp_path / "truth.csv")
    claim_run_state(cdp_env)
    monkeypatch.setenv("CDP_EXPORT_DIR", str(cdp_env.export_dir))
    monkeypatch.setenv("CDP_WAREHOUSE", str(cdp_env.warehouse))  # cli.main sets it from --warehouse
    assert cli.main(["run", "--warehouse", str(tmp_path / "second.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "cdp run: refused: the export folder" in err and "second.duckdb" in err
    assert not (tmp_path / "second.duckdb").exists()


def _customer_map(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT source, source_record_id, customer_id FROM identity.customer_map ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def _exports(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.csv"))
    }


@pytest.mark.slow
def test_two_runs_with_their_own_landing_and_warehouse_share_nothing(tmp_path, monkeypatch):
    (tmp_path / "shared").mkdir()
    (tmp_path / "alone").mkdir()
    settings = point_cdp_at(tmp_path / "shared", monkeypatch)
    data = settings.data_dir
    first_landing, second_landing = data / "landing_a", data / "landing_b"
    # one landing day of 20 customers each: a night costs the same Dagster and Splink overhead at
    # any size, and what is compared (customer maps, export files) is as telling with 20 as with 60
    generate_sample(first_landing, customers=20, days=1, seed=5, truth_file=data / "truth_a.csv")
    generate_sample(second_landing, customers=20, days=1, seed=6, truth_file=data / "truth_b.csv")
    first, second = data / "a" / "cdp.duckdb", data / "b" / "cdp.duckdb"
    for var in ("CDP_LANDING_DIR", "CDP_WAREHOUSE"):
        monkeypatch.setenv(var, "")  # cli.main sets them from the flags; undone after the test

    assert cli.main(["run", "--landing", str(first_landing), "--warehouse", str(first)]) == 0
    first_map, first_exports = _customer_map(first), _exports(data / "a" / "cdp_exports")
    assert first_map and first_exports
    assert cli.main(["run", "--landing", str(second_landing), "--warehouse", str(second)]) == 0

    # each warehouse was built in its own build database and exported into its own folder
    assert (data / "a" / "build" / "cdp_build.duckdb").exists() and (data / "b" / "build" / "cdp_build.duckdb").exists()
    assert not (data / "warehouse" / "build" / "cdp_build.duckdb").exists()
    assert list((data / "exports").iterdir()) == []  # the default warehouse's folder: untouched
    assert _customer_map(first) == first_map and _exports(data / "a" / "cdp_exports") == first_exports
    second_map = _customer_map(second)
    assert second_map and second_map != first_map

    # the second warehouse is exactly what its landing folder gives on its own, in a fresh data folder
    alone = point_cdp_at(tmp_path / "alone", monkeypatch)
    for var in ("CDP_LANDING_DIR", "CDP_WAREHOUSE"):
        monkeypatch.setenv(var, "")
    assert cli.main(["run", "--landing", str(second_landing)]) == 0
    assert _customer_map(alone.warehouse) == second_map
    assert _exports(alone.export_dir) == _exports(data / "b" / "cdp_exports")


def test_a_second_night_on_the_same_build_database_is_refused_naming_the_first(cdp_env, tmp_path, capsys):
    """A night launched from the UI (here: a process holding the lock and the build database open,
    as a run does) is working: `cdp run` and `cdp restore-previous` refuse, exit 3, and say who holds it."""
    import subprocess
    import sys
    import textwrap

    generate_sample(cdp_env.landing_dir, customers=20, days=1, seed=3, truth_file=tmp_path / "truth.csv")
    cdp_env.build_db.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(cdp_env.build_db)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, duckdb
        from cdp_pipeline.lib.common.run_lock import exclusive_night
        with exclusive_night({str(cdp_env.build_db)!r}, holder="Dagster run 1a2b3c4d"):
            con = duckdb.connect({str(cdp_env.build_db)!r})
            print("held", flush=True)
            sys.stdin.readline()
    """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert cli.main(["run"]) == 3
        err = capsys.readouterr().err
        assert (
            f"cdp run: another night is working on {cdp_env.build_db} (Dagster run 1a2b3c4d, process {holder.pid}); "
            "not starting a second one"
        ) in err
        assert cli.main(["restore-previous"]) == 3
        assert "cdp restore-previous: another night is working on" in capsys.readouterr().err
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not cdp_env.warehouse.exists()
