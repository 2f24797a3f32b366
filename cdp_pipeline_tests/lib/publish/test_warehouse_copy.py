"""Publishing: a complete copy, atomically swapped, readable by the DuckDB 1.x CLI."""

import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.lib.common.warehouse import connect_build, previous_path
from cdp_pipeline.lib.publish.warehouse_copy import discard_previous, publish_warehouse, restore_previous
from cdp_pipeline_tests.lib.common.test_warehouse import build_with_deleted_secret


def _build(path: Path, rows: int) -> None:
    con = connect_build(path)
    con.execute(
        "CREATE OR REPLACE TABLE golden.customers AS SELECT 'C' || range AS customer_id FROM range($n)", {"n": rows}
    )
    con.execute("COMMENT ON TABLE golden.customers IS 'one row per customer'")
    con.close()


def _cli() -> str:
    cli = Path(sys.executable).with_name("duckdb")
    assert cli.exists(), "duckdb-cli (the 1.x CLI analysts use) is a dev dependency"
    return str(cli)


def test_publish_copies_every_table_with_comments(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "w" / "cdp.duckdb"
    _build(build, 25)
    result = publish_warehouse(build, pub)
    assert result.rows == 25 and result.tables == 1
    con = duckdb.connect(str(pub), read_only=True)
    assert con.execute("SELECT count(*) FROM golden.customers").fetchall() == [(25,)]
    assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name='customers'").fetchall() == [
        ("one row per customer",)
    ]
    con.close()


@pytest.mark.parametrize("live_rows_only", [False, True])
def test_publish_reports_the_rows_of_each_layer_table_as_the_build_holds_them(tmp_path, live_rows_only):
    build, pub = tmp_path / "b.duckdb", tmp_path / "w" / "cdp.duckdb"
    _build(build, 25)
    con = connect_build(build)
    con.execute("CREATE TABLE audit.quarantine AS SELECT range AS line_number FROM range(7)")
    con.execute("CREATE TABLE main.scratch AS SELECT 1 AS x")  # not a layer schema: not listed
    con.close()
    result = publish_warehouse(build, pub, live_rows_only=live_rows_only)
    assert result.table_rows == (("audit", "quarantine", 7), ("golden", "customers", 25))
    assert (result.tables, result.rows) == (3, 33)


def test_published_file_is_private_to_its_owner(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 1)
    publish_warehouse(build, pub)
    assert stat.S_IMODE(pub.stat().st_mode) == 0o600


def test_duckdb_1x_cli_reads_the_published_file(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 7)
    publish_warehouse(build, pub)
    version = subprocess.run([_cli(), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1."), version
    out = subprocess.run(
        [_cli(), "-readonly", "-csv", str(pub), "-c", "SELECT count(*) AS n FROM golden.customers"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["n", "7"]


def test_reader_of_old_file_keeps_complete_old_warehouse(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 3)
    publish_warehouse(build, pub)
    reader = duckdb.connect(str(pub), read_only=True)
    _build(build, 9)
    publish_warehouse(build, pub)  # must not be blocked by the open reader
    assert reader.execute("SELECT count(*) FROM golden.customers").fetchall() == [(3,)]
    reader.close()
    fresh = duckdb.connect(str(pub), read_only=True)
    assert fresh.execute("SELECT count(*) FROM golden.customers").fetchall() == [(9,)]
    fresh.close()


def test_failed_publish_leaves_previous_file(tmp_path, monkeypatch):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 4)
    publish_warehouse(build, pub)
    before = pub.read_bytes()
    with pytest.raises(duckdb.Error):
        publish_warehouse(tmp_path / "missing" / "nope.duckdb", pub)
    assert pub.read_bytes() == before
    assert not list(tmp_path.glob(".cdp.duckdb.*.tmp"))


def test_previous_warehouse_is_kept_and_can_be_restored(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    assert restore_previous(pub) is False
    _build(build, 2)
    publish_warehouse(build, pub)
    assert not previous_path(pub).exists()
    _build(build, 5)
    publish_warehouse(build, pub)
    assert previous_path(pub).name == "cdp.previous.duckdb"

    def customers(path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute("SELECT count(*) FROM golden.customers").fetchall()[0][0]
        finally:
            con.close()

    assert (customers(pub), customers(previous_path(pub))) == (5, 2)
    assert restore_previous(pub) is True
    assert customers(pub) == 2 and not previous_path(pub).exists()
    _build(build, 7)
    publish_warehouse(build, pub)
    assert discard_previous(pub) is True and not previous_path(pub).exists()


def test_build_in_published_format_is_published_as_a_byte_copy(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 11)  # connect_build creates the file in the published storage format
    assert publish_warehouse(build, pub).copy == "bytes"
    assert pub.read_bytes() == build.read_bytes()


def test_publish_live_rows_only_leaves_the_build_files_free_blocks_behind(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    secret = build_with_deleted_secret(build)
    # a byte copy carries the deleted row along: why an unrewritten build file needs live_rows_only
    assert publish_warehouse(build, pub).copy == "bytes" and secret in pub.read_bytes()
    result = publish_warehouse(build, pub, live_rows_only=True)
    assert result.rows == 5000 and result.copy == "logical"
    assert secret not in pub.read_bytes()


def test_publish_verify_refusal_leaves_the_published_file(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 3)
    publish_warehouse(build, pub)
    before = pub.read_bytes()
    _build(build, 8)

    def refuse(path: Path) -> None:
        assert path.exists() and path != pub
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        publish_warehouse(build, pub, verify=refuse)
    assert pub.read_bytes() == before
    assert not list(tmp_path.glob(".cdp.duckdb.*.tmp*"))


def test_build_in_newer_format_is_rewritten_for_1x_readers(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    con = duckdb.connect(str(build))  # DuckDB 2.x default storage: 1.x tools cannot read it
    con.execute("CREATE SCHEMA golden")
    con.execute("CREATE TABLE golden.customers AS SELECT 'C' || range AS customer_id FROM range(6)")
    con.close()
    result = publish_warehouse(build, pub)
    assert result.rows == 6 and pub.read_bytes() != build.read_bytes()
    out = subprocess.run(
        [_cli(), "-readonly", "-csv", str(pub), "-c", "SELECT count(*) AS n FROM golden.customers"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and out.stdout.split() == ["n", "6"], out.stderr


def _customers(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM golden.customers").fetchall()[0][0]
    finally:
        con.close()


def _session(path: Path, *, write: bool) -> subprocess.Popen:
    """An analyst's session in another process that opened ``path`` read-write by mistake; with
    ``write``, it deleted every customer and its change is still only in the write-ahead log."""
    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(path)!r})\n"
        "con.execute(\"SET checkpoint_threshold = '1GB'\")\n"
        + ("con.execute('DELETE FROM golden.customers')\n" if write else "")
        + "print('open', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open"
    return proc


def test_publish_is_refused_while_a_session_holds_the_warehouse_read_write(tmp_path):
    from cdp_pipeline.lib.publish.warehouse_copy import PublishedWarehouseInUse

    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 3)
    publish_warehouse(build, pub)
    _build(build, 5)
    publish_warehouse(build, pub)
    before = pub.read_bytes()
    _build(build, 8)
    session = _session(pub, write=False)
    try:
        with pytest.raises(PublishedWarehouseInUse, match=rf"open read-write by process {session.pid}\b.*read-only"):
            publish_warehouse(build, pub)
        with pytest.raises(PublishedWarehouseInUse):
            restore_previous(pub)
    finally:
        session.kill()
        session.wait()
    assert pub.read_bytes() == before and _customers(previous_path(pub)) == 3
    assert not list(tmp_path.glob(".cdp.duckdb.*.tmp*"))
    publish_warehouse(build, pub)  # the session is gone: the next night publishes
    assert _customers(pub) == 8


def test_a_read_write_session_killed_with_unsaved_writes_does_not_lock_analysts_out(tmp_path):
    """Its write-ahead log, named by path, would be replayed onto the next published file (DuckDB
    refuses it, and nobody can open the warehouse): it goes with the file it was written for."""
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 3)
    publish_warehouse(build, pub)
    session = _session(pub, write=True)
    session.kill()
    session.wait()
    assert Path(f"{pub}.wal").exists()
    _build(build, 8)
    result = publish_warehouse(build, pub)
    assert _customers(pub) == 8 and not Path(f"{pub}.wal").exists()
    # the previous copy is the file the session wrote to, and opens with its change
    assert result.stale_wal == f"moved to {previous_path(pub)}.wal"
    assert _customers(previous_path(pub)) == 0
    _build(build, 9)
    publish_warehouse(build, pub)  # the log goes with the copy it belongs to
    assert not Path(f"{previous_path(pub)}.wal").exists() and _customers(previous_path(pub)) == 8


def test_a_write_ahead_log_of_another_file_beside_the_warehouse_is_repaired_by_the_next_publish(tmp_path):
    """As an earlier publish left it: the log of a killed session beside a newer file."""
    from cdp_pipeline.lib.publish.warehouse_copy import erasures_in_published

    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 3)
    publish_warehouse(build, pub)
    session = _session(pub, write=True)
    session.kill()
    session.wait()
    _build(build, 5)
    newer = tmp_path / "newer.duckdb"
    publish_warehouse(build, newer)
    newer.replace(pub)  # the old publish's swap, leaving cdp.duckdb.wal behind
    with pytest.raises(duckdb.Error, match="WAL"):
        _customers(pub)
    assert erasures_in_published(pub) is None
    _build(build, 8)
    result = publish_warehouse(build, pub)
    assert result.stale_wal == "deleted (it matched no published file)"
    assert (_customers(pub), _customers(previous_path(pub))) == (8, 5)


def test_restore_previous_takes_each_files_write_ahead_log_with_it(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 3)
    publish_warehouse(build, pub)
    _build(build, 5)
    publish_warehouse(build, pub)
    session = _session(pub, write=True)  # deletes the 5 customers of the current file, unsaved
    session.kill()
    session.wait()
    assert restore_previous(pub) is True
    assert _customers(pub) == 3 and not Path(f"{pub}.wal").exists()
