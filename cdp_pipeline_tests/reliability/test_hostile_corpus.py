"""Issue 7, point 5: the hostile-input corpus (cdp_pipeline_tests/fixtures/hostile/).

The corpus is laid into the landing folder beside the baseline sample (the same landing
days as night 1, so the run's as-of date is the same) and the whole night runs once. The
test checks that

* the run finishes (exit 0) with no failed ERROR-severity check;
* every file ends as expected.json says (status, rows loaded, quarantined lines and
  reasons), and every file's ledger balances: rows read = loaded + quarantined;
* nothing else in the warehouse changed, compared with night 1 over the baseline alone:
  every row night 1 has is still there, unchanged, in every table (volatile columns
  aside), except where a table is by design a function of the whole population (listed
  in POPULATION_RELATIVE, with the reason); and the rows the corpus added belong to the
  corpus (its files, its records, its new customers).
"""

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline_tests.fixtures.hostile import build_corpus
from cdp_pipeline_tests.reliability.conftest import landing_days, lay_landing
from cdp_pipeline_tests.reliability.harness import Night, comparable_select, list_tables

pytestmark = pytest.mark.slow

CORPUS = Path(build_corpus.__file__).resolve().parent
SOURCES = ("crm", "esp", "sms", "web", "pos")
RAW_TABLES = (
    "crm_customers",
    "esp_members",
    "esp_activity",
    "sms_messages",
    "web_events",
    "pos_orders",
    "pos_receipts",
    "pos_square_items",
)
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))["files"]

# Tables (and columns) whose content depends on the whole population, so that new
# customers legitimately change rows of existing ones:
POPULATION_RELATIVE = {
    # RFM scores are quintiles over all customers with orders; the rfm_* segments and the
    # spend-percentile segment follow from them.
    "golden.customers": ("rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_segment"),
    # The Splink model is trained on all records: its parameters, hence every match
    # probability and weight, move when records are added.
    "identity.links": ("match_probability", "match_weight", "match_weights"),
    # ... and so does the kept model itself, its name frequencies and its stored scores.
    "identity.model": ("settings_json", "records"),
    "identity.model_term_frequencies": ("tf",),
    "identity.scored_pairs": ("match_probability", "match_weight", "match_weights", "rid_l", "rid_r"),
    "identity.graph_edges": ("match_probability",),
    # A record's number follows its place among all records' keys (a night that trains numbers
    # them afresh: lib/identity/record_numbers.py).
    "identity.record_numbers": ("rid",),
    "identity.scored_records": ("rid",),
    # ... so a pair scored near the threshold may be linked directly in one population and
    # only through others in the other: the count of probabilistic links per customer moves,
    # while who belongs to whom (identity.customer_map, compared whole) must not.
    "identity.clusters": ("probabilistic_links",),
    # Segment sizes count everyone.
    "segments.sizes": ("members", "entered", "exited"),
    "segments.definitions": ("members",),
}
# One row per run summarising the whole population (records, customers, IDs created, identifiers
# excluded...): every column of it is population-relative, so it is not compared.
RUN_SUMMARIES = ("identity.runs",)
# Tables of scored pairs: their probabilistic rows exist only at or above the threshold, which a
# retrained model moves (see POPULATION_RELATIVE); their other rows are compared.
PROBABILISTIC_ROWS = {
    "identity.links": "link_type = 'probabilistic'",
    "identity.graph_edges": "link_type = 'probabilistic'",
    "identity.scored_pairs": "true",
}
# Segments whose predicate is population-relative: their membership (and what is exported
# from them) may change for existing customers.
RELATIVE_SEGMENTS = ("champions", "loyal", "at_risk", "hibernating", "new_customers", "top_spenders_10pct")


def _committed() -> list[Path]:
    """The committed corpus files (``<source>/<file>``), not this package's own files."""
    return sorted(p for p in CORPUS.glob("*/*") if p.is_file() and p.parent.name in SOURCES)


def _lay_corpus(landing: Path, days: list[str]) -> list[str]:
    """Write the corpus (committed and generated files) as <source>/<day>/<file>; returns rel paths."""
    data = {
        **{p.relative_to(CORPUS).as_posix(): p.read_bytes() for p in _committed()},
        **build_corpus.generated_files(),
    }
    laid = []
    for rel, spec in sorted(EXPECTED.items()):
        source, name = rel.split("/")
        target = landing / source / days[spec["day"]] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[rel])
        laid.append(target.relative_to(landing).as_posix())
    return laid


def prepare_hostile_night(sample_landing: Path, root: Path) -> tuple[Night, list[str]]:
    """Night 1's landing days with the corpus laid in them (the conftest starts its run early)."""
    days = landing_days(sample_landing)[:-1]
    night = Night.create(root)
    lay_landing(sample_landing, night.landing, days)
    return night, _lay_corpus(night.landing, days)


@pytest.fixture(scope="module")
def hostile(night1_pair, hostile_night_run):
    baseline, _ = night1_pair
    night, laid, outcome = hostile_night_run
    assert night.warehouse.exists(), f"the night over the corpus published nothing:\n{outcome.stderr[-3000:]}"
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{night.warehouse}' AS h (READ_ONLY)")
    con.execute(f"ATTACH '{baseline.warehouse}' AS b (READ_ONLY)")
    by_rel = {rel.split("/", 2)[0] + "/" + rel.rsplit("/", 1)[1]: rel for rel in laid}
    yield {"night": night, "baseline": baseline, "outcome": outcome, "con": con, "files": by_rel}
    con.close()


def test_corpus_has_at_least_30_files_across_every_source():
    assert len(EXPECTED) >= 30
    assert {rel.split("/")[0] for rel in EXPECTED} == set(SOURCES)
    committed = _committed()
    assert all(p.stat().st_size <= 100_000 for p in committed)
    assert {p.relative_to(CORPUS).as_posix() for p in committed} | set(build_corpus.generated_files()) == set(EXPECTED)


def test_every_file_parses_as_expected_without_the_pipeline():
    """The reader alone, in a second: what each file yields before any database is involved."""
    from cdp_pipeline.lib.raw.load import parse_file
    from cdp_pipeline.lib.raw.parsed import FileRejected

    data = {
        **{p.relative_to(CORPUS).as_posix(): p.read_bytes() for p in _committed()},
        **build_corpus.generated_files(),
    }
    problems = []
    for rel, spec in sorted(EXPECTED.items()):
        if spec["status"] == "duplicate":
            continue  # decided by the ledger at load time
        source, name = rel.split("/")
        try:
            parsed = parse_file(source, name, data[rel])
            got = (
                "loaded" if parsed.rows_read else "empty",
                parsed.rows_loaded,
                [[q.line_number, q.reason] for q in parsed.quarantined],
            )
        except FileRejected as exc:
            got = ("rejected", 0, [[None, exc.reason]])
        want_lines = [q[0] for q in spec["quarantine"]]
        if (got[0], got[1], [q[0] for q in got[2]]) != (spec["status"], spec["rows_loaded"], want_lines):
            problems.append(f"{rel}: {got[:2]} lines {[q[0] for q in got[2]]}")
        elif any(w[1] not in g[1] for g, w in zip(got[2], spec["quarantine"])):
            problems.append(f"{rel}: reasons {[g[1] for g in got[2]]}")
    assert problems == []


def test_the_run_finishes_without_failed_error_checks(hostile):
    out = hostile["outcome"]
    assert out.returncode == 0, out.stderr[-3000:]
    failed = [line.strip() for line in out.stdout if "FAILED (ERROR)" in line]
    assert failed == []


def test_every_file_ends_as_expected(hostile):
    con = hostile["con"]
    problems = []
    for key, spec in sorted(EXPECTED.items()):
        rel = hostile["files"][key]
        row = con.execute(
            "SELECT status, rows_read, rows_loaded, rows_quarantined, encoding FROM h.audit.files WHERE file = ?", [rel]
        ).fetchall()
        if len(row) != 1:
            problems.append(f"{rel}: {len(row)} ledger rows")
            continue
        status, read, loaded, quarantined, encoding = row[0]
        got = {"status": status, "rows_loaded": loaded, "rows_quarantined": quarantined}
        want = {k: spec[k] for k in got}
        if got != want:
            problems.append(f"{rel}: {got} != expected {want}")
        if read != loaded + quarantined:
            problems.append(f"{rel}: rows read {read} != loaded {loaded} + quarantined {quarantined}")
        if spec.get("encoding") and encoding != spec["encoding"]:
            problems.append(f"{rel}: encoding {encoding} != {spec['encoding']}")
        entries = con.execute(
            "SELECT line_number, reason FROM h.audit.quarantine WHERE file = ? ORDER BY line_number NULLS FIRST", [rel]
        ).fetchall()
        if [e[0] for e in entries] != [q[0] for q in spec["quarantine"]]:
            problems.append(
                f"{rel}: quarantined lines {[e[0] for e in entries]} != {[q[0] for q in spec['quarantine']]}"
            )
        else:
            for (line, reason), (_, want_reason) in zip(entries, spec["quarantine"]):
                if want_reason not in (reason or ""):
                    problems.append(f"{rel}: line {line}: reason {reason!r} lacks {want_reason!r}")
        raw_rows = 0
        for table in RAW_TABLES:
            raw_rows += con.execute(f"SELECT count(*) FROM h.raw.{table} WHERE _file = ?", [rel]).fetchone()[0]
        if raw_rows != spec["rows_loaded"]:
            problems.append(f"{rel}: {raw_rows} raw rows, expected {spec['rows_loaded']}")
    assert problems == []


def test_every_ledger_row_balances_and_every_quarantine_row_has_a_reason(hostile):
    con = hostile["con"]
    assert (
        con.execute(
            "SELECT file FROM h.audit.files WHERE rows_read <> rows_loaded + rows_quarantined "
            "+ coalesce(rows_suppressed, 0)"
        ).fetchall()
        == []
    )
    assert (
        con.execute("SELECT count(*) FROM h.audit.quarantine WHERE coalesce(trim(reason), '') = ''").fetchone()[0] == 0
    )
    # a rejected file has exactly one whole-file quarantine row
    assert (
        con.execute("""SELECT f.file FROM h.audit.files f LEFT JOIN h.audit.quarantine q
                          ON q.file = f.file AND q.line_number IS NULL
                          WHERE f.status = 'rejected' GROUP BY f.file HAVING count(q.file) <> 1""").fetchall()
        == []
    )


def test_hostile_values_are_stored_verbatim_and_read_sensibly(hostile):
    con = hostile["con"]
    names = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT customer_id, first_name, last_name, street FROM h.raw.crm_customers WHERE customer_id LIKE 'H-%'"
        ).fetchall()
    }
    assert names["H-0016"][1] == "'; DROP TABLE customers; --"
    assert names["H-0017"][0] == '=HYPERLINK("http://evil.example/x","click")'
    assert names["H-0014"][0] == 'Sean "The Great"'
    assert names["H-0015"] == ("Zoë 🦄", "Nguyễn 👩🏽‍💻", "Testgatan 15")
    assert names["H-0003"][1:] == ("Öberg", "Storgatan 5 – “gården”")
    assert names["H-0034"][:2] == ("Björn", "Ström")
    assert len(names["H-0070"][2]) == 10_000 and len(names["H-0071"][0]) == 10_000
    assert "customer_id" not in names  # the repeated header is not a customer
    extra = con.execute("SELECT _extra FROM h.raw.crm_customers WHERE customer_id = 'H-0072'").fetchone()[0]
    assert len(json.loads(extra)) == 4_984
    # the tables the injection text names are all still there
    assert con.execute("SELECT count(*) FROM h.golden.customers").fetchone()[0] > 0
    # STOP opts out, with punctuation, courtesy words or in Swedish too; case and spaces do not matter
    kw = dict(
        con.execute(
            "SELECT body, keyword FROM h.staging.sms_messages WHERE source_record_id LIKE '+467219902%'"
        ).fetchall()
    )
    assert kw["STOP"] == "opt_out" and kw["  stop "] == "opt_out" and kw["UNSUBSCRIBE"] == "opt_out"
    assert kw["STOP PLEASE"] == "opt_out" and kw["Stopp"] == "opt_out" and kw["STOP, now"] == "opt_out"
    assert kw["START"] == "opt_in"
    # a valid line keeps its å when another line of the file is not UTF-8
    bodies = {
        r[0] for r in con.execute("SELECT body FROM h.raw.sms_messages WHERE _file LIKE '%invalid_utf8%'").fetchall()
    }
    assert {"Hälsningar från Åre", "Vi ses på fredag"} <= bodies
    # GA4 duplicates: four raw rows of one cookie's page_view, one staging event
    assert (
        con.execute(
            "SELECT count(*) FROM h.staging.web_events WHERE cookie = 'hostile.1' AND event_name = 'page_view'"
        ).fetchone()[0]
        == 1
    )
    # the Shopify order over three rows is one order with three lines
    assert con.execute("SELECT count(*) FROM h.staging.order_lines WHERE order_id = 'order:#H1001'").fetchone()[0] == 3


def _table_keys(con) -> dict[str, str]:
    """For tables whose new rows can be attributed: a predicate true for rows that belong to the corpus."""
    corpus_files = "(SELECT file FROM h.audit.files WHERE file NOT IN (SELECT file FROM b.audit.files))"
    corpus_records = (
        "(SELECT source || '|' || source_record_id FROM h.identity.customer_map "
        "EXCEPT SELECT source || '|' || source_record_id FROM b.identity.customer_map)"
    )
    corpus_customers = (
        f"(SELECT customer_id FROM h.identity.customer_map WHERE source || '|' || source_record_id IN {corpus_records})"
    )
    keys = {f"raw.{t}": f"_file IN {corpus_files}" for t in RAW_TABLES}
    keys |= {
        "audit.files": f"file IN {corpus_files}",
        "audit.quarantine": f"file IN {corpus_files}",
        "staging.identity_records": f"source || '|' || source_record_id IN {corpus_records}",
        "identity.customer_map": f"source || '|' || source_record_id IN {corpus_records}",
        "identity.clusters": f"customer_id IN {corpus_customers}",
        "identity.id_history": f"customer_id IN {corpus_customers}",
        "golden.customers": f"customer_id IN {corpus_customers}",
        "golden.customer_timeline": f"customer_id IN {corpus_customers} OR customer_id IS NULL",
    }
    return keys


def test_nothing_else_in_the_warehouse_changed(hostile):
    con = hostile["con"]
    baseline_tables = list_tables(con, "b")
    assert set(baseline_tables) <= set(list_tables(con, "h"))
    lost, foreign = {}, {}
    keys = _table_keys(con)
    for table in baseline_tables:
        if table in RUN_SUMMARIES:
            continue
        exclude = POPULATION_RELATIVE.get(table, ())
        before = comparable_select(con, table, "b", exclude)
        after = comparable_select(con, table, "h", exclude)
        if table in PROBABILISTIC_ROWS:
            before += f" WHERE NOT ({PROBABILISTIC_ROWS[table]})"
            after += f" WHERE NOT ({PROBABILISTIC_ROWS[table]})"
        if table.startswith("segments.") or table.startswith("activation."):
            seg = "segment" if table.startswith("segments.") else None
            if seg and "segment" in _columns(con, table):
                before += f" WHERE segment NOT IN {RELATIVE_SEGMENTS}"
                after += f" WHERE segment NOT IN {RELATIVE_SEGMENTS}"
            elif table.startswith("activation."):
                continue  # audiences are built from segments; compared through segments.membership
        n = con.execute(f"SELECT count(*) FROM ({before} EXCEPT ALL {after})").fetchone()[0]
        if n:
            lost[table] = n
        if table in keys:
            schema, name = table.split(".")
            added = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM h.{schema}.{name} WHERE NOT ({keys[table]}))"
            ).fetchone()[0]
            kept = con.execute(f"SELECT count(*) FROM b.{schema}.{name}").fetchone()[0]
            if added != kept:
                foreign[table] = (kept, added)
    # every baseline row is still there, unchanged
    assert lost == {}
    # and outside the corpus's own rows, the tables hold exactly the baseline's number of rows
    assert foreign == {}


def _columns(con, table: str) -> set[str]:
    schema, name = table.split(".")
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'b' AND schema_name = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    }


def test_corpus_people_did_not_merge_into_baseline_customers(hostile):
    con = hostile["con"]
    mixed = con.execute("""
        SELECT customer_id FROM h.identity.customer_map m
        GROUP BY customer_id
        HAVING count(*) FILTER (WHERE (source, source_record_id) IN
                                (SELECT (source, source_record_id) FROM b.identity.customer_map)) > 0
           AND count(*) FILTER (WHERE (source, source_record_id) NOT IN
                                (SELECT (source, source_record_id) FROM b.identity.customer_map)) > 0
    """).fetchall()
    assert mixed == []
    before = con.execute(
        "SELECT source, source_record_id, customer_id FROM b.identity.customer_map ORDER BY ALL"
    ).fetchall()
    after = con.execute(
        "SELECT source, source_record_id, customer_id FROM h.identity.customer_map "
        "WHERE (source, source_record_id) IN (SELECT (source, source_record_id) "
        "FROM b.identity.customer_map) ORDER BY ALL"
    ).fetchall()
    assert after == before


def test_an_event_at_the_end_of_year_9999_utc_does_not_fail_golden(tmp_path):
    """Fast reproduction without the pipeline: staging tables with one far-future e-mail event."""
    from cdp_pipeline.lib.golden.build import latest_event_date

    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("CREATE SCHEMA staging")
    for table, column in (
        ("orders", "ordered_at"),
        ("email_activity", "event_time"),
        ("sms_messages", "sent_at"),
        ("web_sessions", "started_at"),
        ("web_events", "event_time"),
        ("consent_events", "event_time"),
        ("identity_records", "record_time"),
    ):
        con.execute(f"CREATE TABLE staging.{table} ({column} TIMESTAMP)")
    con.execute("INSERT INTO staging.email_activity VALUES ('9999-12-31 23:59:59')")
    # 10000-01-01 00:59:59 in Stockholm: capped at the last day a date can hold.
    assert latest_event_date(con, "Europe/Stockholm") == date(9999, 12, 31)
