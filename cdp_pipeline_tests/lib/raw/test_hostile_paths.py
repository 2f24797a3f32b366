"""What someone who can drop files in the landing folder cannot make ingest do (issue 16):
read through symbolic links, read the suppression salt, store a huge line whole; and the
robustness points: a huge integer costs one line, the ledger hashes the bytes it read, and
an erasure keeps raw and the ledger in balance."""

import hashlib
import json
import os
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.raw.landing import changed_days, landed_files
from cdp_pipeline.lib.raw.ledger import ledger_balance

RAW_RECORD_MAX_CHARS = 4096  # what a quarantine row keeps of a line (lib/raw/parsed.py)

DAY = "2026-10-01"
SECRET = "sk_live_TOPSECRET_4242"
CRM = b"customer_id,first_name,email\n1,Anna,a@b.se\n2,Bo,b@c.se\n"


@pytest.fixture
def con(cdp_env):
    c = duckdb.connect(str(cdp_env.build_db))
    yield c
    c.close()


@pytest.fixture
def outside(tmp_path) -> Path:
    """A file the service user can read, outside the landing folder, shaped like a CRM extract."""
    p = tmp_path / "elsewhere" / "api_keys.csv"
    p.parent.mkdir()
    p.write_text(f"customer_id,first_name,email\n{SECRET},x,y@z.se\n")
    return p


def drop(landing: Path, source: str, name: str, data: bytes, day: str = DAY) -> Path:
    p = landing / source / day / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def everything_text(con) -> str:
    """Every text value of every table, as one string (to search for what must not be there)."""
    parts = []
    for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall():
        parts += [str(r) for r in con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall()]
    return "\n".join(parts)


def ledger(con):
    return con.execute("SELECT file, status, message, rows_loaded FROM audit.files ORDER BY file").fetchall()


def test_a_symlinked_file_is_refused_and_recorded_without_its_content(cdp_env, con, outside):
    landing = cdp_env.landing_dir
    drop(landing, "crm", "customers.csv", CRM)
    (landing / "crm" / DAY / "keys.csv").symlink_to(outside)
    load_partition(con, landing, "crm", DAY)
    assert ledger(con) == [
        ("crm/2026-10-01/customers.csv", "loaded", None, 2),
        (
            "crm/2026-10-01/keys.csv",
            "rejected",
            "crm/2026-10-01/keys.csv is a symbolic link: refused (only regular files are read)",
            0,
        ),
    ]
    assert SECRET not in everything_text(con)
    assert con.execute("SELECT file, reason FROM audit.quarantine").fetchall() == [
        ("crm/2026-10-01/keys.csv", "crm/2026-10-01/keys.csv is a symbolic link: refused (only regular files are read)")
    ]


@pytest.mark.parametrize("link", ["day", "source"])
def test_a_symlinked_day_or_source_folder_is_refused(cdp_env, con, outside, link):
    landing = cdp_env.landing_dir
    if link == "day":
        (landing / "crm").mkdir(parents=True)
        (landing / "crm" / DAY).symlink_to(outside.parent, target_is_directory=True)
        reason = "crm/2026-10-01 is a symbolic link to a folder: refused"
    else:
        (outside.parent / DAY).mkdir()
        os.link(outside, outside.parent / DAY / "keys.csv")
        (landing / "crm").symlink_to(outside.parent, target_is_directory=True)
        reason = "crm is a symbolic link to a folder: refused"
    load_partition(con, landing, "crm", DAY)
    assert ledger(con) == [("crm/2026-10-01", "rejected", reason, 0)]
    assert SECRET not in everything_text(con)


def test_the_landing_listing_does_not_follow_links(cdp_env, outside):
    landing = cdp_env.landing_dir
    drop(landing, "crm", "customers.csv", CRM)
    (landing / "crm" / DAY / "keys.csv").symlink_to(outside)
    (landing / "pos").mkdir()
    (landing / "pos" / "2026-10-02").symlink_to(outside.parent, target_is_directory=True)
    found = {(f.source, f.day, f.path.name, f.size) for f in landed_files(landing)}
    link_size = (landing / "crm" / DAY / "keys.csv").lstat().st_size
    assert ("crm", DAY, "keys.csv", link_size) in found  # the link's own size, not its target's
    assert ("pos", "2026-10-02", "2026-10-02", (landing / "pos" / "2026-10-02").lstat().st_size) in found
    assert not any(name == "api_keys.csv" for _, _, name, _ in found)
    assert changed_days(landing, []) == [DAY, "2026-10-02"]  # so the night records them as rejected


def test_the_suppression_salt_is_never_read_from_the_landing_folder(cdp_env, con):
    from cdp_pipeline.lib.audit.suppression import salt_for, salt_path

    salt = salt_for(cdp_env)
    landing = cdp_env.landing_dir
    (landing / "crm" / DAY).mkdir(parents=True)
    os.link(salt_path(cdp_env.data_dir), landing / "crm" / DAY / "salt.csv")  # a hard link: not a symlink
    (landing / "crm" / DAY / "salt2.csv").symlink_to(salt_path(cdp_env.data_dir))
    load_partition(con, landing, "crm", DAY, settings=cdp_env)
    assert [(f, s) for f, s, _, _ in ledger(con)] == [
        ("crm/2026-10-01/salt.csv", "rejected"),
        ("crm/2026-10-01/salt2.csv", "rejected"),
    ]
    assert "suppression salt" in ledger(con)[0][2]
    assert salt not in everything_text(con)


def test_a_salt_file_configured_inside_the_landing_folder_is_refused(cdp_env, monkeypatch):
    from cdp_pipeline.lib.audit.suppression import SALT_ENV, salt_for, salt_path

    assert not salt_path(cdp_env.data_dir).resolve().is_relative_to(cdp_env.landing_dir.resolve())  # default
    monkeypatch.setenv(SALT_ENV, str(cdp_env.landing_dir / "crm" / "salt"))
    with pytest.raises(ValueError, match="must not be inside landing_dir"):
        salt_for(cdp_env)
    assert not (cdp_env.landing_dir / "crm" / "salt").exists()


def test_a_huge_broken_line_is_stored_capped_with_its_length_and_hash(cdp_env, con):
    line = '1,"' + "x" * 3_000_000 + '"broken,' + "y" * 10
    drop(cdp_env.landing_dir, "crm", "customers.csv", CRM + line.encode() + b"\n")
    load_partition(con, cdp_env.landing_dir, "crm", DAY, settings=cdp_env)
    ((raw_record, reason),) = con.execute("SELECT raw_record, reason FROM audit.quarantine").fetchall()
    assert len(raw_record) < RAW_RECORD_MAX_CHARS + 200 and raw_record.startswith('1,"xxx')
    assert f"of {len(line):,} characters" in raw_record
    assert hashlib.sha256(line.encode()).hexdigest() in raw_record
    assert len(reason) < 1200
    assert ledger_balance(con, "crm", "crm_customers")["balanced"]


def test_a_5000_digit_integer_costs_its_line_not_the_file(cdp_env, con):
    events = [
        json.dumps({"event_timestamp": i, "event_name": "page_view", "user_pseudo_id": f"ck.{i}"}) for i in range(1, 4)
    ]
    events.insert(1, '{"event_timestamp": 2, "event_name": "x", "user_pseudo_id": "ck.9", "n": ' + "7" * 5000 + "}")
    drop(cdp_env.landing_dir, "web", "events_20261001.jsonl", ("\n".join(events) + "\n").encode())
    out = load_partition(con, cdp_env.landing_dir, "web", DAY, settings=cdp_env)
    assert [(f.status, f.rows_loaded, f.rows_quarantined) for f in out.files] == [("loaded", 3, 1)]
    ((line, reason, raw),) = con.execute("SELECT line_number, reason, raw_record FROM audit.quarantine").fetchall()
    assert line == 2 and reason.startswith("invalid JSON: a value could not be read (Exceeds the limit")
    assert len(raw) < RAW_RECORD_MAX_CHARS + 200


def test_the_ledger_hashes_exactly_the_bytes_it_read(cdp_env, con, monkeypatch):
    """A file rewritten while the night reads it: the ledger's SHA-256 and rows are of one version."""
    from cdp_pipeline.lib.raw import load as load_module

    path = drop(cdp_env.landing_dir, "crm", "customers.csv", CRM)
    second = CRM + b"3,Cy,c@d.se\n"
    discover = load_module.discover_files

    def discover_then_rewrite(*args, **kwargs):
        found = discover(*args, **kwargs)
        path.write_bytes(second)  # the sender rewrites the file after it was listed
        return found

    monkeypatch.setattr(load_module, "discover_files", discover_then_rewrite)
    load_partition(con, cdp_env.landing_dir, "crm", DAY, settings=cdp_env)
    assert con.execute("SELECT sha256, bytes, rows_loaded FROM audit.files").fetchall() == [
        (hashlib.sha256(second).hexdigest(), len(second), 3)
    ]
    assert con.execute("SELECT DISTINCT _file_sha256 FROM raw.crm_customers").fetchall() == [
        (hashlib.sha256(second).hexdigest(),)
    ]


def test_after_an_erasure_raw_still_matches_the_ledger(cdp_env, con):
    from cdp_pipeline.lib.audit import queue_erasure, run_pending_erasures

    drop(cdp_env.landing_dir, "crm", "customers.csv", CRM + b'3,Cy,cy@posten.se\n4,"broken,cy@posten.se\n')
    load_partition(con, cdp_env.landing_dir, "crm", DAY, settings=cdp_env)
    queue_erasure("cy@posten.se", cdp_env.inbox_dir)
    (result,) = run_pending_erasures(con, cdp_env)
    assert result.tables_affected["raw.crm_customers"] == 1
    b = ledger_balance(con, "crm", "crm_customers")
    assert (b["raw_rows"], b["rows_loaded_live"], b["rows_erased"]) == (2, 2, 1)
    assert b["raw_matches"] and b["balanced"]
    # without the settings (the salt) the erased person could not be recognised: refused
    with pytest.raises(ValueError, match="someone has been erased"):
        load_partition(con, cdp_env.landing_dir, "crm", DAY)
    assert con.execute("SELECT count(*) FROM raw.crm_customers").fetchall() == [(2,)]  # the day kept
    # the night reloads the day: the row is suppressed at ingest and the ledger balances again
    load_partition(con, cdp_env.landing_dir, "crm", DAY, settings=cdp_env)
    b = ledger_balance(con, "crm", "crm_customers")
    assert (b["raw_rows"], b["rows_suppressed"], b["rows_erased"]) == (2, 1, 0)
    assert b["raw_matches"] and b["balanced"]


def test_paging_in_asks_for_regular_files_only_never_through_a_link_a_pipe_or_a_secret(tmp_path, monkeypatch):
    """``page_in`` asks the kernel to read what ``read_landing_bytes`` would read, and nothing
    else: a whole regular file, in pieces; not a symbolic link's target, not a pipe (whose open
    would wait for a writer), not the salt, not an entry the listing refused."""
    import datetime as dt
    import os as _os
    from dataclasses import replace

    from cdp_pipeline.lib.raw import files as files_module
    from cdp_pipeline.lib.raw.files import LandingFile, page_in

    asked: list[tuple[str, int, int]] = []
    monkeypatch.setattr(files_module, "_PAGE_IN_PIECE", 1000)
    fadvise = _os.posix_fadvise
    monkeypatch.setattr(
        _os,
        "posix_fadvise",
        lambda fd, offset, length, advice: (
            asked.append((_os.readlink(f"/proc/self/fd/{fd}"), offset, length)) or fadvise(fd, offset, length, advice)
        ),
    )
    day = tmp_path / "web" / "2026-10-01"
    day.mkdir(parents=True)
    (day / "a.jsonl").write_bytes(b"x" * 2500)
    secret = tmp_path / "salt"
    secret.write_bytes(b"s" * 10)
    _os.symlink(day / "a.jsonl", day / "b_link.jsonl")
    _os.mkfifo(day / "c_pipe.jsonl")
    _os.link(secret, day / "d_salt.jsonl")
    st = _os.stat(secret)

    def entry(name: str, refused: str | None = None) -> LandingFile:
        return LandingFile("web", dt.date(2026, 10, 1), day / name, f"web/2026-10-01/{name}", 0, "", refused)

    secrets = frozenset({(st.st_dev, st.st_ino)})
    for name in ("a.jsonl", "b_link.jsonl", "c_pipe.jsonl", "d_salt.jsonl"):
        page_in(entry(name), secrets)
    page_in(entry("a.jsonl", refused="refused by the listing"), secrets)
    page_in(replace(entry("a.jsonl"), path=None), secrets)  # a bug's entry: left for the read to report
    page_in(entry("nul\x00.jsonl"), secrets)
    target = str(day / "a.jsonl")
    assert asked == [(target, 0, 1000), (target, 1000, 1000), (target, 2000, 1000)]


def test_a_sub_folder_is_recorded_as_rejected_and_nothing_refused_reloads_its_day_every_night(cdp_env, con, outside):
    """A source that delivered into a sub-folder is named in the ledger (its opt-outs would
    otherwise go unread without a word); and what ingest refuses unread is in the ledger with 0
    bytes, which a quiet night must not take for a changed file (it reloaded the day every night)."""
    landing = cdp_env.landing_dir
    drop(landing, "crm", "customers.csv", CRM)
    drop(landing, "crm", "inner.csv", CRM.replace(b"Anna", b"Nested"), day=f"{DAY}/export")
    (landing / "crm" / DAY / "keys.csv").symlink_to(outside)
    os.mkfifo(landing / "crm" / DAY / "pipe.csv")
    load_partition(con, landing, "crm", DAY)
    assert ledger(con) == [
        ("crm/2026-10-01/customers.csv", "loaded", None, 2),
        (
            "crm/2026-10-01/export",
            "rejected",
            "crm/2026-10-01/export is a folder: refused (files are read from the day folder itself, not from sub-folders)",
            0,
        ),
        (
            "crm/2026-10-01/keys.csv",
            "rejected",
            "crm/2026-10-01/keys.csv is a symbolic link: refused (only regular files are read)",
            0,
        ),
        ("crm/2026-10-01/pipe.csv", "rejected", "crm/2026-10-01/pipe.csv is not a regular file: refused", 0),
    ]
    assert "Nested" not in everything_text(con)
    entries = con.execute("SELECT file, landing_date, bytes, max(loaded_at) FROM audit.files GROUP BY ALL").fetchall()
    assert changed_days(landing, entries) == []
    # a file delivered into the sub-folder later changes the folder, and its day is loaded again
    os.utime(landing / "crm" / DAY / "export", ns=(0, 2**62))
    assert changed_days(landing, entries) == [DAY]


def test_a_link_or_pipe_refused_once_is_not_a_change_on_the_next_quiet_night(cdp_env, con, outside):
    """The ledger records them with 0 bytes; the listing sees the link's own size: the night
    took that for a changed file and reloaded the day every night."""
    landing = cdp_env.landing_dir
    drop(landing, "crm", "customers.csv", CRM)
    (landing / "crm" / DAY / "keys.csv").symlink_to(outside)
    os.mkfifo(landing / "crm" / DAY / "pipe.csv")
    load_partition(con, landing, "crm", DAY)
    entries = con.execute("SELECT file, landing_date, bytes, max(loaded_at) FROM audit.files GROUP BY ALL").fetchall()
    assert sorted((f, b) for f, _, b, _ in entries) == [
        ("crm/2026-10-01/customers.csv", len(CRM)),
        ("crm/2026-10-01/keys.csv", 0),
        ("crm/2026-10-01/pipe.csv", 0),
    ]
    assert changed_days(landing, entries) == []
