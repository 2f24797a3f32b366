"""The `cdp` command's output: explanations per record pair, a closed pipe, aligned timelines."""

import json
import subprocess
import sys
from datetime import datetime

import duckdb
import pytest

from cdp_pipeline import cli
from cdp_pipeline.lib.golden.customer_view import format_profile
from cdp_pipeline.lib.golden.survivorship import SURVIVED_ATTRIBUTES
from cdp_pipeline.lib.identity.explain import format_explanation, group_links_by_pair
from cdp_pipeline_tests.conftest import REPO_ROOT


def _rec(source, rid):
    return {"source": source, "source_record_id": rid}


def _link(a, b, link_type, kind=None, value=None, p=None, w=None, weights=None, note=None):
    return {
        "a": a,
        "b": b,
        "link_type": link_type,
        "identifier_kind": kind,
        "identifier_value": value,
        "match_probability": p,
        "match_weight": w,
        "match_weights": weights,
        "note": note,
    }


CRM, ESP, POS = _rec("crm", "1"), _rec("esp", "anna@x.se"), _rec("pos", "receipt:1:1")
EXPLANATION = {
    "customer_id": "C-1",
    "created_at": "2025-01-02",
    "run_id": "r1",
    "records": [CRM, ESP, POS],
    "links": [
        # crm:1 and esp:anna share an e-mail and a loyalty card and also scored high: three rows
        _link(CRM, ESP, "deterministic", "email", "anna@x.se"),
        _link(ESP, CRM, "deterministic", "loyalty_card", "L1"),  # the same pair, other order
        _link(CRM, ESP, "probabilistic", p=0.99912, w=10.2, weights={"first_name": 3.1, "dob": -0.4}),
        _link(CRM, POS, "deterministic", "loyalty_card", "L1"),
    ],
    "cut_links": [],
    "history": [],
}


def test_explain_lists_each_record_pair_once_with_all_its_evidence():
    grouped = group_links_by_pair(EXPLANATION)
    assert "links" not in grouped
    assert [(p["a"], p["b"]) for p in grouped["pairs"]] == [(CRM, ESP), (CRM, POS)]
    crm_esp = grouped["pairs"][0]["evidence"]
    assert [(e["link_type"], e.get("identifier_kind")) for e in crm_esp] == [
        ("deterministic", "email"),
        ("deterministic", "loyalty_card"),
        ("probabilistic", None),
    ]
    assert crm_esp[2]["match_probability"] == 0.99912
    json.dumps(grouped)

    text = format_explanation(EXPLANATION)
    assert text.count("crm:1 <-> esp:anna@x.se") == 1
    assert "Linked pairs (2):" in text
    block = text.split("crm:1 <-> esp:anna@x.se")[1].split("crm:1 <-> pos:")[0]
    assert "same email: anna@x.se" in block and "same loyalty_card: L1" in block
    assert "probabilistic: p=0.9991, weight=10.20" in block and "first_name +3.10" in block


def test_explain_of_a_single_record_says_so():
    single = {**EXPLANATION, "records": [CRM], "links": []}
    assert "Links: none (a single record)" in format_explanation(single)


def test_cdp_explain_command_groups_the_pairs(tmp_path, monkeypatch, capsys):
    """Through `cdp explain` over a resolved warehouse (the identity package's own resolution)."""
    from cdp_pipeline.lib.identity import resolve_identities
    from cdp_pipeline.lib.identity.config import PACKAGED_CONFIG_PATH, load_identity_config
    from cdp_pipeline_tests.lib.identity.synthetic import record, write_records

    warehouse = tmp_path / "cdp.duckdb"
    con = duckdb.connect(str(warehouse))
    write_records(
        con,
        [
            record(
                "crm",
                "1",
                first_name="anna",
                last_name="berg",
                email="anna@x.se",
                crm_customer_id="1",
                loyalty_card_id="L1",
            ),
            record("esp", "anna@x.se", first_name="anna", last_name="berg", email="anna@x.se", loyalty_card_id="L1"),
        ],
    )
    config = load_identity_config(PACKAGED_CONFIG_PATH, match_threshold=0.99).with_splink(
        u_max_pairs=5e4, em_max_pairs=None
    )
    resolve_identities(con, run_id="r1", config=config)
    cid = con.execute("SELECT customer_id FROM identity.customer_map WHERE source = 'crm'").fetchall()[0][0]
    link_rows = con.execute("SELECT count(*) FROM identity.links WHERE customer_id = ?", [cid]).fetchall()[0][0]
    con.close()
    assert link_rows >= 2  # the pair is linked by more than one piece of evidence

    monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))
    assert cli.main(["explain", cid]) == 0
    text = capsys.readouterr().out
    assert text.count("<->") == 1 and "Linked pairs (1):" in text
    assert "same email: anna@x.se" in text and "same loyalty_card: L1" in text

    assert cli.main(["explain", cid, "--json"]) == 0
    pairs = json.loads(capsys.readouterr().out)["pairs"]
    assert len(pairs) == 1 and len(pairs[0]["evidence"]) == link_rows


def test_cdp_explain_follows_a_merged_id_and_refuses_an_unknown_one_without_a_traceback(tmp_path, monkeypatch, capsys):
    """`cdp explain OLD_ID` explains the customer the id was merged into (identity.id_history);
    an unknown id exits 1 with one line, not explain_customer's KeyError."""
    warehouse = tmp_path / "cdp.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA identity")
    con.execute("""CREATE TABLE identity.customer_map AS SELECT * FROM (VALUES
        ('crm', '1', 'C-new', TIMESTAMP '2025-01-01', 'r1', TIMESTAMP '2025-01-01'))
        t(source, source_record_id, customer_id, customer_created_at, run_id, resolved_at)""")
    con.execute("""CREATE TABLE identity.id_history AS SELECT * FROM (VALUES
        ('r2', 'C-old', 'merged', 'C-new', TIMESTAMP '2025-01-02'))
        t(run_id, customer_id, event, related_customer_id, "at")""")
    con.execute("""CREATE TABLE identity.links (customer_id VARCHAR, source_l VARCHAR, record_l VARCHAR,
        source_r VARCHAR, record_r VARCHAR, link_type VARCHAR, identifier_kind VARCHAR, identifier_value VARCHAR,
        match_probability DOUBLE, match_weight DOUBLE, match_weights JSON, note VARCHAR)""")
    con.execute("""CREATE TABLE identity.rejected_links (customer_id_l VARCHAR, customer_id_r VARCHAR,
        source_l VARCHAR, record_l VARCHAR, source_r VARCHAR, record_r VARCHAR, link_type VARCHAR,
        identifier_kind VARCHAR, match_probability DOUBLE, reason VARCHAR)""")
    con.close()
    monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))
    assert cli.main(["explain", "C-old"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("Customer C-new  (1 records;")
    assert "C-old was merged into C-new; explaining C-new" in out.err
    assert cli.main(["explain", "C-nope"]) == 1
    assert capsys.readouterr().err == "cdp explain: no customer 'C-nope' (give a customer id, C-…)\n"


def test_a_closed_pipe_ends_a_command_quietly(tmp_path):
    """`cdp … | head`: the reader is gone before the command writes; no traceback, exit 141."""
    landing = tmp_path / "landing"
    (landing / "crm" / "2025-01-01").mkdir(parents=True)
    (landing / "crm" / "2025-01-01" / "x.csv").write_text("id\n1\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cdp_pipeline.cli", "sample", "--if-empty", "--out", str(landing)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "CDP_DATA_DIR": str(tmp_path / "data")},
    )
    proc.stdout.close()  # as `head` does once it has read enough
    _, err = proc.communicate(timeout=120)
    assert err.decode() == ""
    assert proc.returncode == cli.EXIT_BROKEN_PIPE


def _profile(timeline_times):
    attrs = {a: None for a in SURVIVED_ATTRIBUTES}
    consent = {
        f"{ch}_{k}": None for ch in ("email", "sms") for k in ("consent", "consent_at", "consent_source", "contactable")
    }
    return {
        "customer_id": "C-1",
        "as_of_date": "2025-01-31",
        "matched_on": "customer_id",
        "matched_value": "C-1",
        "other_matches": [],
        "attributes": attrs,
        "provenance": {a: {"source": None, "source_record_id": None} for a in SURVIVED_ATTRIBUTES},
        "identifiers": {},
        "consent": consent,
        "traits": {},
        "source_records": [],
        "timeline": [
            {"event_time": t, "channel": "web", "event_type": "page_view", "summary": "home"} for t in timeline_times
        ],
    }


@pytest.mark.parametrize("with_micros", [datetime(2025, 1, 3, 10, 4, 5, 123456), datetime(2025, 1, 3, 10, 4, 5)])
def test_customer_timeline_columns_stay_aligned(with_micros):
    text = format_profile(_profile([with_micros, datetime(2025, 1, 2, 9, 0, 0)]))
    rows = text.split("Latest timeline entries (2)\n")[1].splitlines()
    assert rows[0] == "  2025-01-03 10:04:05  web    page_view        home"
    assert [row.index("web") for row in rows] == [23, 23]


def test_the_duckdb_command_of_the_analyst_docs_exists_and_opens_a_warehouse(tmp_path):
    """docs/analyst_queries.md's command, run as written from a checkout whose venv is this one."""
    import re
    import shlex
    from pathlib import Path

    doc = (REPO_ROOT / "docs" / "analyst_queries.md").read_text(encoding="utf-8")
    command = shlex.split(re.search(r"```\n(.*?duckdb.*?)\n```", doc).group(1))
    assert command[0] == ".venv/bin/duckdb" and command[1:] == ["-readonly", "data/warehouse/cdp.duckdb"]
    venv_bin = Path(sys.prefix) / "bin"  # what `.venv/bin` is in a checkout made by `make setup`
    warehouse = tmp_path / "data" / "warehouse" / "cdp.duckdb"
    warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(warehouse), config={"storage_compatibility_version": "v1.5.0"})
    con.execute("CREATE TABLE t AS SELECT 42 AS answer")
    con.close()
    out = subprocess.run(
        [str(venv_bin / "duckdb"), *command[1:], "-csv", "-c", "SELECT answer FROM t"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["answer", "42"]


def test_the_license_is_an_spdx_expression_and_the_build_backend_reads_it():
    """A license table (`{text = …}`) makes setuptools warn that it is deprecated; the SPDX
    string form needs setuptools 77 or later in the build requirements."""
    import tomllib

    from packaging.licenses import canonicalize_license_expression
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    license_ = pyproject["project"]["license"]
    assert isinstance(license_, str) and canonicalize_license_expression(license_) == license_ == "Apache-2.0"
    setuptools = next(
        Requirement(r) for r in pyproject["build-system"]["requires"] if Requirement(r).name == "setuptools"
    )
    assert not setuptools.specifier.contains("76.9") and setuptools.specifier.contains("77.0")


def test_cdp_run_refuses_a_day_that_is_not_a_date(cdp_env, capsys):
    """--day names a landing-day partition: a typo would otherwise become a partition of its own."""
    day = cdp_env.landing_dir / "crm" / "2026-10-01"
    day.mkdir(parents=True)
    (day / "customers.csv").write_text("customer_id\n1\n")
    assert cli.main(["run", "--day", "2026-10-1"]) == 2
    assert "--day must be a date written YYYY-MM-DD, not '2026-10-1'" in capsys.readouterr().err


def test_cdp_run_refuses_a_day_that_never_landed_and_reruns_an_old_day_as_of_the_latest(cdp_env, capsys, monkeypatch):
    """`--day 2027-01-01` (a typo) with no files and nothing loaded from it exits 2 before any run
    (it would run a night as of that day and export under it); `--day` of an old day loads that
    day only, as of the latest landed day (not the old day: the warehouse holds every day)."""
    import cdp_pipeline.launch

    for day in ("2026-10-01", "2026-10-03"):
        folder = cdp_env.landing_dir / "crm" / day
        folder.mkdir(parents=True)
        (folder / "customers.csv").write_text("customer_id\n1\n")
    launched = []

    class Result:
        run_id, success = "r" * 36, True

    def fake_execute(job, instance, *, tags, run_config):
        launched.append(dict(tags))
        return Result()

    monkeypatch.setattr(cdp_pipeline.launch, "execute_job_run", fake_execute)
    assert cli.main(["run", "--day", "2027-01-01"]) == 2
    err = capsys.readouterr().err
    assert f"no landing files for 2027-01-01 under {cdp_env.landing_dir}, and none loaded from it before" in err
    assert "(landed days: 2026-10-01 … 2026-10-03)" in err and not launched
    assert cli.main(["run", "--day", "2026-10-01"]) == 0
    assert [
        (t["dagster/asset_partition_range_start"], t["dagster/asset_partition_range_end"], t["cdp/last_landing_day"])
        for t in launched
    ] == [("2026-10-01", "2026-10-01", "2026-10-03")]


def test_look_ups_say_so_in_one_line_when_another_process_holds_the_warehouse_for_writing(
    tmp_path, monkeypatch, capsys
):
    """An analyst session opened without -readonly locks every other process out of the file:
    `cdp customer`, `cdp explain`, `cdp evaluate` and `cdp access` exit 2 with a sentence, not a traceback."""
    warehouse = tmp_path / "cdp.duckdb"
    duckdb.connect(str(warehouse)).close()
    truth = tmp_path / "truth.csv"
    truth.write_text("source,source_record_id,person_id\n")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(warehouse)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))
        for argv in (
            ["customer", "anna@x.se"],
            ["explain", "C-1"],
            ["evaluate", "--truth", str(truth)],
            ["access", "anna@x.se", "--out", str(tmp_path / "a.json")],
        ):
            assert cli.main(argv) == 2, argv
            err = capsys.readouterr().err
            assert err.startswith(f"cdp: cannot open the published warehouse {warehouse}: IO Error: Could not set lock")
            assert "Traceback" not in err and "without -readonly" in err
    finally:
        holder.kill()
        holder.wait()


def test_cdp_sample_refuses_bad_sizes_and_an_unwritable_folder_in_one_line(cdp_env, tmp_path, capsys):
    for argv, said in (
        (["--customers", "0"], "argument --customers: must be at least 1, not 0"),
        (["--days", "-3"], "argument --days: must be at least 1, not -3"),
        (["--customers", "many"], "argument --customers: 'many' is not a whole number"),
    ):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["sample", *argv])
        assert exit_.value.code == 2 and said in capsys.readouterr().err
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert cli.main(["sample", "--customers", "5", "--days", "1", "--out", str(blocker / "landing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cdp sample: cannot write the sample: ") and "Traceback" not in err


def test_restore_previous_twice_says_the_previous_one_is_already_back(cdp_env, capsys):
    from cdp_pipeline.lib.common.warehouse import previous_path

    warehouse = cdp_env.warehouse
    cdp_env.ensure_dirs()
    for path, night in ((warehouse, 2), (previous_path(warehouse), 1)):
        con = duckdb.connect(str(path))
        con.execute(f"CREATE TABLE night AS SELECT {night} AS n")
        con.close()
    assert cli.main(["restore-previous"]) == 0
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT n FROM night").fetchall() == [(1,)]
    con.close()
    capsys.readouterr()
    assert cli.main(["restore-previous"]) == 1
    assert "(none published yet, already restored, or deleted by an erasure)" in capsys.readouterr().err


def test_a_command_s_exit_still_closes_a_duckdb_connection_left_open(tmp_path):
    """`cdp` keeps the exiting interpreter's final garbage collections off the objects still
    alive; a DuckDB connection left open in a reference cycle (freed only by a collection) is
    still closed, so its file is checkpointed and no write-ahead log is left behind."""
    import os

    db = tmp_path / "left_open.duckdb"
    script = (
        "import duckdb\n"
        "from cdp_pipeline import cli\n"
        f"con = duckdb.connect({str(db)!r})\n"
        "con.execute('CREATE TABLE t AS SELECT 42 AS x')\n"
        "cycle = [con]\n"
        "cycle.append(cycle)\n"
        "del con, cycle\n"
        "cli.skip_final_collections()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path, env=env)
    assert not db.with_name(db.name + ".wal").exists()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(42,)]


def test_the_run_summary_says_why_it_cannot_read_a_warehouse_held_read_write(tmp_path, capsys):
    """An analyst's read-write session refuses the publish; `cdp run`'s summary then says that the
    warehouse could not be opened, not a traceback that hides the run's own exit code."""
    from cdp_pipeline.lib.common.progress import StageTimer

    pub = tmp_path / "cdp.duckdb"
    duckdb.connect(str(pub)).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    code = f"import duckdb, time\ncon = duckdb.connect({str(pub)!r})\nprint('open', flush=True)\ntime.sleep(120)\n"
    session = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert session.stdout.readline().strip() == "open"
        cli.print_summary(pub, StageTimer(labels={}), 1.0, "0123456789")
    finally:
        session.kill()
        session.wait()
    out = capsys.readouterr().out
    assert "the published warehouse could not be opened: IO Error: Could not set lock" in out
    assert out.rstrip().endswith(f"warehouse: {pub}")


def test_cdp_forget_refuses_an_identifier_with_no_reading_and_warns_on_a_malformed_email(cdp_env, capsys):
    """`cdp forget --kind phone abc` or `--kind email abc` could match no one: exit 2, one line, nothing
    queued. `not-an-email@` is queued (a raw record may hold exactly that text) with a warning."""
    from cdp_pipeline.lib.audit.requests import read_requests

    for argv in (["forget", "abc", "--kind", "phone"], ["forget", "anna.svensson", "--kind", "email"], ["forget", " "]):
        assert cli.main(argv) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith("cdp forget: refused:") and captured.err.count("\n") == 1
        assert "nothing queued" in captured.err and "Traceback" not in captured.err and not captured.out
    assert read_requests(cdp_env.inbox_dir) == []

    assert cli.main(["forget", "not-an-email@"]) == 0
    captured = capsys.readouterr()
    assert "cdp forget: warning: the e-mail address given is not well formed" in captured.err
    assert "queued" in captured.out
    assert cli.main(["forget", "anna.svensson@posten.se"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert cli.main(["forget", "0701234567", "--kind", "phone"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert [r.identifier for r in read_requests(cdp_env.inbox_dir)] == [
        "not-an-email@",
        "anna.svensson@posten.se",
        "0701234567",
    ]


def _explain_warehouse(path) -> None:
    """C-1: crm:1 -email- esp:a -model- pos:r1, and crm:1 -review- web:w; C-2: sms:s1, kept apart
    from C-1 by two cut links; the model's score of sms:s1 / crm:1 kept in identity.scored_pairs."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA identity")
    con.execute("""CREATE TABLE identity.customer_map AS
        SELECT *, TIMESTAMP '2025-01-01' AS customer_created_at, 'r1' AS run_id, TIMESTAMP '2025-01-01' AS resolved_at
        FROM (VALUES ('crm', '1', 'C-1'), ('esp', 'a', 'C-1'), ('pos', 'r1', 'C-1'), ('web', 'w', 'C-1'),
                     ('sms', 's1', 'C-2')) t(source, source_record_id, customer_id)""")
    con.execute("""CREATE TABLE identity.links AS
        SELECT * REPLACE (match_probability::DOUBLE AS match_probability, match_weight::DOUBLE AS match_weight)
        FROM (VALUES ('C-1', 'crm', '1', 'esp', 'a', 'deterministic', 'email', 'a@x.se', NULL, NULL, NULL, NULL),
        ('C-1', 'esp', 'a', 'pos', 'r1', 'probabilistic', NULL, NULL, 0.998, 9.1, '{"first_name": 4.5}', NULL),
        ('C-1', 'crm', '1', 'web', 'w', 'review', NULL, NULL, NULL, NULL, NULL, 'same person, call 12/3'),
        ('C-1', 'crm', '1', 'pos', 'r1', 'probabilistic', NULL, NULL, 0.991, 7.0, NULL, NULL))
        t(customer_id, source_l, record_l, source_r, record_r, link_type, identifier_kind, identifier_value,
          match_probability, match_weight, match_weights, note)""")
    con.execute("""CREATE TABLE identity.rejected_links AS
        SELECT * REPLACE (match_probability::DOUBLE AS match_probability) FROM (VALUES
        ('C-1', 'C-2', 'esp', 'a', 'sms', 's1', 'probabilistic', NULL, 0.995, 'cardinality:birth_dates'),
        ('C-2', 'C-1', 'sms', 's1', 'crm', '1', 'deterministic', 'phone', NULL, 'cannot_link:review'))
        t(customer_id_l, customer_id_r, source_l, record_l, source_r, record_r, link_type, identifier_kind,
          match_probability, reason)""")
    con.execute("""CREATE TABLE identity.scored_pairs AS
        SELECT * REPLACE (match_probability::DOUBLE AS match_probability, match_weight::DOUBLE AS match_weight)
        FROM (VALUES
        ('sms', 's1', 'crm', '1', 0.97, 5.04, '{"phone": 8.0, "birth_date": -6.1}', false))
        t(source_l, record_l, source_r, record_r, match_probability, match_weight, match_weights, sparse)""")
    con.close()


def test_cdp_explain_records_prints_the_chain_that_joins_two_records(tmp_path, monkeypatch, capsys):
    warehouse = tmp_path / "cdp.duckdb"
    _explain_warehouse(warehouse)
    monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))
    assert cli.main(["explain", "--records", "web:w", "esp:a"]) == 0
    assert capsys.readouterr().out == (
        "web:w and esp:a: one customer, C-1, joined by 2 link(s):\n"
        "  web:w <-> crm:1\n"
        "      must-link by review: same person, call 12/3\n"
        "  crm:1 <-> esp:a\n"
        "      same email: a@x.se\n"
    )
    # the shortest chain: pos:r1 to web:w through crm:1 (2 links), not through esp:a (3)
    assert cli.main(["explain", "--records", "pos:r1", "web:w", "--json"]) == 0
    chain = json.loads(capsys.readouterr().out)["chain"]
    assert [(c["a"]["source"], c["b"]["source"]) for c in chain] == [("pos", "crm"), ("crm", "web")]
    assert chain[0]["evidence"] == [
        {"link_type": "probabilistic", "match_probability": 0.991, "match_weight": 7.0, "match_weights": None}
    ]


def test_cdp_explain_records_of_two_customers_names_the_cut_links_and_the_score(tmp_path, monkeypatch, capsys):
    warehouse = tmp_path / "cdp.duckdb"
    _explain_warehouse(warehouse)
    monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))
    assert cli.main(["explain", "--records", "crm:1", "sms:s1"]) == 0
    assert capsys.readouterr().out == (
        "crm:1 and sms:s1: two customers, C-1 and C-2.\n"
        "Links cut between them (kept apart):\n"
        "  sms:s1 <-> crm:1  deterministic phone -> cannot_link:review\n"
        "  esp:a <-> sms:s1  probabilistic p=0.9950 -> cardinality:birth_dates\n"
        "The model's score of crm:1 <-> sms:s1: p=0.9700, weight=5.04\n"
        "  phone +8.00, birth_date -6.10\n"
    )
    assert cli.main(["explain", "--records", "pos:r1", "sms:s1", "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["same_customer"] is False and e["model_score"] is None
    assert [c["reason"] for c in e["cut_links"]] == ["cardinality:birth_dates", "cannot_link:review"]


@pytest.mark.parametrize(
    "argv, code, err",
    [
        (["explain", "--records", "crm:1", "crm:9"], 1, "cdp explain: no record crm:9 in identity.customer_map\n"),
        (
            ["explain", "--records", "crm1", "esp:a"],
            2,
            "cdp explain: a record is source:record_id (crm:101821), not 'crm1'\n",
        ),
        (["explain"], 2, "cdp explain: give a customer id (C-…) or --records A B, one of the two\n"),
        (
            ["explain", "C-1", "--records", "crm:1", "esp:a"],
            2,
            "cdp explain: give a customer id (C-…) or --records A B, one of the two\n",
        ),
    ],
)
def test_cdp_explain_records_refuses_what_it_cannot_explain_in_one_line(tmp_path, monkeypatch, capsys, argv, code, err):
    warehouse = tmp_path / "cdp.duckdb"
    _explain_warehouse(warehouse)
    monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))
    assert cli.main(argv) == code
    assert capsys.readouterr().err == err
