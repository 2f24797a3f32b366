"""The night's exports are built in DuckDB: they must be the rows and bytes the plain Python
rules (reference_rows.apply_consent and build_rows, exporter.write_export) give, for any value
golden may hold."""

import hashlib
import json
from datetime import date

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cdp_pipeline.lib.activation import consent_gate, exporter
from cdp_pipeline.lib.activation.csv_safe import FORMULA_PREFIXES, neutralise_cell
from cdp_pipeline.lib.activation.destinations import Destination, parse_destinations
from cdp_pipeline.lib.activation.exporter import (
    python_pattern_as_re2,
    stage_export_rows,
    write_export,
    write_export_from_members,
)
from cdp_pipeline.lib.common.sql_files import run_sql
from cdp_pipeline_tests.lib.activation.reference_rows import apply_consent, build_rows
from cdp_pipeline_tests.lib.activation.test_hashing import EMAIL_HASH, GOOGLE_PHONE_HASH, META_PHONE_HASH
from cdp_pipeline_tests.lib.segments.golden_fixture import write_ledger

SEGMENTS = ["a", "b", "c"]
KINDS = ["esp", "sms", "meta_audience", "google_customer_match", "pos"]

# Characters where SQL and Python could part ways: JSON escapes, CSV quoting, formula prefixes,
# Unicode whitespace and case (strip/lower), the Kelvin sign that lower-cases to ASCII.
TRICKY = "\x00\x01\x08\t\n\x0b\x0c\r\x1b\x1f \"',\\=+-@/~|;é\u00a0\u1680\u2028\u3000\x85\u212a\u0130ΣßẞK😀abcXYZ019."
tricky_text = st.text(alphabet=TRICKY, max_size=8)
_plain_email = st.builds(
    lambda local, domain: f"{local}@{domain}.se",
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._%+'-]{0,6}", fullmatch=True),
    st.from_regex(r"[a-z0-9][a-z0-9.-]{0,5}", fullmatch=True),
)
emails = st.one_of(
    st.none(),
    tricky_text,
    _plain_email,
    _plain_email,
    st.builds(
        lambda pre, local, domain, post: f"{pre}{local}@{domain}.se{post}",
        st.sampled_from(["", " ", "\t", "\u00a0", "\n"]),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._%+'-]{0,6}", fullmatch=True) | tricky_text,
        st.from_regex(r"[a-z0-9][a-z0-9.-]{0,5}", fullmatch=True) | tricky_text,
        st.sampled_from(["", " ", "\n", "\u3000"]),
    ),
)
phones = st.one_of(
    st.none(),
    st.just(""),
    tricky_text,
    st.builds(
        lambda pre, p, post: f"{pre}{p}{post}",
        st.sampled_from(["", " ", "\u00a0", "\t"]),
        st.from_regex(r"\+[0-9][0-9]{5,15}", fullmatch=True),
        st.sampled_from(["", " ", "\n", "\u2028"]),
    ),
)
cards = st.lists(st.one_of(st.none(), tricky_text, st.from_regex(r"LC-[0-9]{1,3}", fullmatch=True)), max_size=3)
contactable = st.sampled_from([True, True, False, None])
customers = st.lists(
    st.fixed_dictionaries(
        {
            "email": emails,
            "phone": phones,
            "first_name": st.one_of(st.none(), tricky_text),
            "loyalty_card_ids": st.one_of(st.none(), cards),
            "email_contactable": contactable,
            "sms_contactable": contactable,
            "segments": st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3, unique=True),
        }
    ),
    max_size=12,
)


def _destination(kind: str, consent=(), segments=("c", "a")) -> Destination:
    return parse_destinations(
        [{"name": "d", "kind": kind, "segments": list(segments), "required_consent": list(consent)}]
    )[0]


def _blocked(people: list[dict]) -> dict[str, set[str]]:
    """The consent ledger of the generated worlds: every third person's email and every fourth's phone
    (from the second) are blocked, as if unsubscribed or STOPped on another customer."""
    return {
        "email": {p["email"] for i, p in enumerate(people) if i % 3 == 0 and p["email"] is not None},
        "sms": {p["phone"] for i, p in enumerate(people) if i % 4 == 1 and p["phone"] is not None},
    }


def _database(people: list[dict], blocked: dict[str, set[str]] | None = None) -> duckdb.DuckDBPyConnection:
    """golden.customers and segments.membership holding ``people`` (customer ids c00, c01, ...), and the
    consent ledger blocking ``blocked`` (channel -> identifiers)."""
    con = duckdb.connect()
    for schema in ("golden", "segments", "activation"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute(
        "CREATE TABLE golden.customers (customer_id VARCHAR, email VARCHAR, phone VARCHAR, "
        "first_name VARCHAR, loyalty_card_ids VARCHAR[], email_contactable BOOLEAN, sms_contactable BOOLEAN)"
    )
    con.execute("CREATE TABLE segments.membership (segment VARCHAR, customer_id VARCHAR)")
    for i, p in enumerate(people):
        cid = f"c{i:02d}"
        con.execute(
            "INSERT INTO golden.customers VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                cid,
                p["email"],
                p["phone"],
                p["first_name"],
                p["loyalty_card_ids"],
                p["email_contactable"],
                p["sms_contactable"],
            ],
        )
        con.executemany("INSERT INTO segments.membership VALUES (?, ?)", [[s, cid] for s in p["segments"]])
    write_ledger(con, sorted((channel, v) for channel, values in (blocked or {}).items() for v in values))
    run_sql(con, exporter.SQL_DIR, "create_activation_export_members")
    return con


def _python_rows(people: list[dict], dest: Destination, blocked: dict[str, set[str]] | None = None):
    """What the Python rules give: candidates as select_export_candidates made them, gated, built."""
    candidates = [
        {**p, "customer_id": f"c{i:02d}", "segments": sorted(s for s in p["segments"] if s in dest.segments)}
        for i, p in enumerate(people)
    ]
    candidates = [c for c in candidates if c["segments"]]
    gated, dropped = apply_consent(candidates, dest, blocked)
    built = build_rows(dest, gated)
    rows = [
        (r.customer_id, r.key, json.dumps(r.values, sort_keys=True, ensure_ascii=False), r.sent_email, r.sent_phone)
        for r in built.rows
    ]
    return rows, (len(candidates), dropped, built.skipped_no_identifier, len(built.rows))


def _sql_rows(con, dest: Destination, run_date=date(2025, 6, 1), audience=None):
    staged = stage_export_rows(con, dest, audience)
    params = {"destination": dest.name, "run_date": run_date}
    run_sql(con, exporter.SQL_DIR, "insert_export_members", params)
    rows = con.execute(
        "SELECT customer_id, row_key, row_values, sent_email, sent_phone FROM activation.export_members "
        "WHERE destination = $destination AND run_date = $run_date ORDER BY row_key",
        params,
    ).fetchall()
    return rows, (staged.candidates, staged.dropped_without_consent, staged.skipped_no_identifier, staged.rows)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(people=customers, consent=st.sampled_from([(), ("email",), ("sms",), ("email", "sms")]))
def test_sql_rows_are_the_python_rows(kind, people, consent):
    dest = _destination(kind, consent)
    expected_rows, expected_counts = _python_rows(people, dest, _blocked(people))
    rows, counts = _sql_rows(_database(people, _blocked(people)), dest)
    assert rows == expected_rows
    assert counts == expected_counts
    # The night's way: candidates and the gate's verdict taken from the members of every destination's
    # segments (here another destination's too), shared by the destinations: the same rows and counts.
    con = _database(people, _blocked(people))
    other = _destination("esp", ("email",), segments=("b",))
    with exporter.ExportAudience(con, [other, dest]) as audience:
        assert _sql_rows(con, dest, audience=audience) == (expected_rows, expected_counts)
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'export_audience%'").fetchone()[
        0
    ]


def test_sql_rows_of_the_ad_platforms_are_the_known_answers():
    con = _database(
        [
            {
                "email": " Anna.Berg@example.se",
                "phone": "+46701234567",
                "first_name": "Anna",
                "loyalty_card_ids": [],
                "email_contactable": True,
                "sms_contactable": True,
                "segments": ["a"],
            }
        ]
    )
    meta, _ = _sql_rows(con, _destination("meta_audience"))
    google, _ = _sql_rows(con, _destination("google_customer_match"))
    assert json.loads(meta[0][2]) == {"email": EMAIL_HASH, "phone": META_PHONE_HASH}
    assert json.loads(google[0][2]) == {"Email": EMAIL_HASH, "Phone": GOOGLE_PHONE_HASH}


def test_pos_flags_and_a_segment_named_like_the_card_column():
    people = [
        {
            "email": None,
            "phone": None,
            "first_name": None,
            "loyalty_card_ids": [" LC-2", "LC-1", "LC-1 ", ""],
            "email_contactable": None,
            "sms_contactable": None,
            "segments": ["loyalty_card_id", "b"],
        }
    ]
    for segments in (("b", "a"), ("loyalty_card_id", "b")):
        dest = _destination("pos", segments=segments)
        assert _sql_rows(_database(people), dest)[0] == _python_rows(people, dest)[0]


@pytest.mark.parametrize("kind", ["esp", "sms", "meta_audience", "google_customer_match"])
def test_a_blocked_address_or_number_is_never_exported_plain_or_hashed(kind):
    # c00's email and c01's phone are blocked in the ledger although golden says contactable
    people = [
        {
            "email": "blocked@x.se",
            "phone": "+46701111111",
            "first_name": "A",
            "loyalty_card_ids": [],
            "email_contactable": True,
            "sms_contactable": True,
            "segments": ["a"],
        },
        {
            "email": "ok@x.se",
            "phone": "+46702222222",
            "first_name": "B",
            "loyalty_card_ids": [],
            "email_contactable": True,
            "sms_contactable": True,
            "segments": ["a"],
        },
    ]
    blocked = {"email": {"blocked@x.se"}, "sms": {"+46702222222"}}
    rows, _ = _sql_rows(_database(people, blocked), _destination(kind))
    assert rows == _python_rows(people, _destination(kind), blocked)[0]
    text = " ".join(r[2] for r in rows)
    for value, hashes in (
        ("blocked@x.se", (EMAIL_HASH_OF("blocked@x.se"),)),
        ("+46702222222", PHONE_HASHES_OF("+46702222222")),
    ):
        assert value not in text and not any(h in text for h in hashes)
    assert "ok@x.se" in text or EMAIL_HASH_OF("ok@x.se") in text or kind == "sms"
    assert "+46701111111" in text or any(h in text for h in PHONE_HASHES_OF("+46701111111")) or kind == "esp"
    # a destination requiring email consent drops the customer whose address is blocked (an SMS
    # destination requires SMS consent too: it drops the one whose number is blocked as well)
    _, counts = _sql_rows(_database(people, blocked), _destination(kind, ("email",)))
    assert counts[1] == (2 if kind == "sms" else 1)


def EMAIL_HASH_OF(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def PHONE_HASHES_OF(phone: str) -> tuple[str, str]:
    return hashlib.sha256(phone.encode()).hexdigest(), hashlib.sha256(phone.lstrip("+").encode()).hexdigest()


def test_an_unknown_consent_channel_drops_everyone_as_the_python_gate_does():
    people = [
        {
            "email": "a@b.se",
            "phone": None,
            "first_name": "A",
            "loyalty_card_ids": ["LC-1"],
            "email_contactable": True,
            "sms_contactable": True,
            "segments": ["a"],
        }
    ]
    dest = Destination(name="d", kind="pos", segments=("a",), required_consent=("post",))
    assert _sql_rows(_database(people), dest)[1] == _python_rows(people, dest)[1] == (1, 1, 0, 0)


def test_the_gate_is_looked_up_on_its_module(monkeypatch):
    people = [
        {
            "email": "a@b.se",
            "phone": None,
            "first_name": "A",
            "loyalty_card_ids": [],
            "email_contactable": False,
            "sms_contactable": False,
            "segments": ["a"],
        }
    ]
    con = _database(people)
    assert stage_export_rows(con, _destination("esp")).rows == 0

    def no_gate(con, destination):
        con.execute("CREATE OR REPLACE TEMP TABLE gated_candidates AS SELECT * FROM export_candidates")
        return 0

    monkeypatch.setattr(consent_gate, "gate_candidates", no_gate)
    assert stage_export_rows(con, _destination("esp")).rows == 1


def test_python_patterns_keep_their_meaning_in_re2():
    con = duckdb.connect()
    pattern = python_pattern_as_re2(exporter.hashing.E164)
    for phone in ["+46701234567", "+46701234567\n", "+46701234567\n\n", " +46701234567", "+4670123456x", "0701234567"]:
        assert con.execute("SELECT regexp_matches($p, $re)", {"p": phone, "re": pattern}).fetchall()[0][
            0
        ] == exporter.hashing.is_e164(phone), phone


# --------------------------------------------------------------------------- files
row_values = st.fixed_dictionaries({"phone": tricky_text, "tags": st.one_of(st.none(), tricky_text)})
exports = st.dictionaries(st.text(alphabet="0123456789+\n ", min_size=1, max_size=4), row_values, max_size=8)


def _store(con, dest: Destination, day: date, rows: dict[str, dict], texts: dict[str, str] | None = None):
    texts = texts or {}
    if not rows:
        return
    con.executemany(
        "INSERT INTO activation.export_members VALUES (?, ?, 'c', ?, ?, false, true)",
        [[dest.name, day, k, texts.get(k, json.dumps(v, sort_keys=True, ensure_ascii=False))] for k, v in rows.items()],
    )


def _files(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.name != "manifest.json"}


def _manifest(directory):
    m = json.loads((directory / "manifest.json").read_text())
    m.pop("written_at")
    return m


def _both_ways(tmp_path, dest, current, previous, texts=None):
    con = _database([])
    day, before = date(2025, 6, 2), (date(2025, 6, 1) if previous is not None else None)
    _store(con, dest, day, current, texts)
    if previous is not None:
        _store(con, dest, before, previous)
    sql = write_export_from_members(con, tmp_path / "sql", dest, day, before)
    python = write_export(tmp_path / "python", dest, day, current, previous, before)
    assert _files(sql.directory) == _files(python.directory)
    assert _manifest(sql.directory) == _manifest(python.directory)
    return sql


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(current=exports, previous=st.one_of(st.none(), exports))
@example(current={"+1": {"phone": "=1+1", "tags": "\r\n"}}, previous={"+1": {"phone": "+1", "tags": None}})
def test_sql_files_are_the_python_files(tmp_path_factory, current, previous):
    _both_ways(tmp_path_factory.mktemp("export"), _destination("sms"), current, previous)


def test_a_file_is_made_as_one_text_quoted_as_the_csv_module_quotes(tmp_path, monkeypatch):
    """DuckDB writes a file's lines as one text, quoting a cell with a comma, a quote or a line feed as the
    csv module does; a file with a carriage return (quoted by some Python versions, not by others) is
    rendered by the csv module. Both are the Python exporter's bytes."""
    fetched = []
    fetch_sql = exporter.fetch_sql

    def recording(con, sql_dir, name, *args, **kwargs):
        fetched.append(name)
        return fetch_sql(con, sql_dir, name, *args, **kwargs)

    monkeypatch.setattr(exporter, "fetch_sql", recording)
    plain = {"+1": {"phone": "+1", "tags": "a;b é '=x"}, "+2": {"phone": "+2", "tags": None}}
    files = {}
    for i, tags in enumerate(["plain", "a,b", 'say "hi", "bye"', "two\nlines", '"', ""]):
        fetched.clear()
        written = _both_ways(
            tmp_path / f"text{i}", _destination("sms"), {**plain, "+3": {"phone": "+3", "tags": tags}}, {}
        )
        assert "select_export_file_text" in fetched and "select_export_file_cells" not in fetched, tags
        files[tags] = (written.directory / "full.csv").read_bytes()
    assert files["plain"] == b"phone,tags\n+1,a;b \xc3\xa9 '=x\n+2,\n+3,plain\n"
    assert b'\n+3,"say ""hi"", ""bye"""\n' in files['say "hi", "bye"']
    assert b'\n+3,"two\nlines"\n' in files["two\nlines"] and b'\n+3,""""\n' in files['"']
    fetched.clear()
    _both_ways(tmp_path / "cr", _destination("sms"), {**plain, "+3": {"phone": "+3", "tags": "cr\r"}}, {})
    assert "select_export_file_cells" in fetched


def test_files_of_every_kind_including_integer_flags(tmp_path):
    pos = _destination("pos", segments=("b", "a"))
    current = {"LC-1": {"loyalty_card_id": "LC-1", "a": 1, "b": 0}, "-LC": {"loyalty_card_id": "-LC", "a": 0, "b": -1}}
    previous = {"LC-1": {"loyalty_card_id": "LC-1", "a": 0, "b": 0}, "LC-9": {"loyalty_card_id": "LC-9", "a": 1}}
    _both_ways(tmp_path / "pos", pos, current, previous)
    for kind in ("esp", "meta_audience", "google_customer_match"):
        cols = _destination(kind).columns
        rows = {f"k{i}": {c: f"@{c}{i}" if i else None for c in cols} for i in range(3)}
        _both_ways(tmp_path / kind, _destination(kind), rows, {})


def test_a_different_text_of_the_same_values_is_not_an_update(tmp_path):
    dest = _destination("sms")
    current = {"+1": {"phone": "+1", "tags": "é"}, "+2": {"phone": "+2", "tags": "y"}}
    previous = {"+1": {"phone": "+1", "tags": "é"}, "+2": {"phone": "+2", "tags": "x"}}
    written = _both_ways(tmp_path, dest, current, previous, texts={"+1": '{"tags": "\\u00e9", "phone": "+1"}'})
    assert written.manifest["delta"] == {"added": 0, "updated": 1, "removed": 0}


def test_values_sql_does_not_render_go_the_python_way(tmp_path):
    dest = _destination("pos", segments=("a", "b"))
    current = {"LC-1": {"loyalty_card_id": "LC-1", "a": True, "b": 1.5}, "LC-2": {"loyalty_card_id": "LC-2", "a": [1]}}
    written = _both_ways(tmp_path, dest, current, None)
    assert b"LC-1,True,1.5" in (written.directory / "full.csv").read_bytes()


def test_sql_cells_neutralise_as_csv_safe_does():
    con = duckdb.connect()
    exporter.register_export_functions(con)
    from cdp_pipeline.lib.activation.csv_safe import FORMULA_PREFIX_RE2

    for text in [
        *(p + "x" for p in FORMULA_PREFIXES),
        "x=",
        "'=",
        " =",
        "",
        "é",
        "\n=",
        "\u00a0+",
        '"@',
        "\u3000 -",
        " x",
    ]:
        got = con.execute(
            "SELECT export_cell($v, false, $f), export_cell($v, true, $f)", {"v": text, "f": FORMULA_PREFIX_RE2}
        ).fetchall()[0]
        assert got == (neutralise_cell(text), text), text


@pytest.mark.parametrize(
    "previous",
    [None, {}, {"+1": {"phone": "+1", "tags": "old"}, "+2": {"phone": "+2", "tags": None}}],
    ids=["first export", "nothing before", "every row changed"],
)
def test_a_delta_added_of_every_row_is_the_full_file_byte_for_byte(tmp_path, previous):
    # write_export_from_members then writes the full file's bytes for delta_added without rendering its rows
    # again: the Python exporter, which renders both, must agree byte for byte
    current = {"+2": {"phone": "+2", "tags": "=cmd"}, "+1": {"phone": "+1", "tags": "new"}}
    written = _both_ways(tmp_path, _destination("sms"), current, previous)
    files = _files(written.directory)
    assert files["delta_added.csv"] == files["full.csv"]
    assert files["full.csv"].count(b"\n") == 3  # header and two rows


def _person(email: str, first_name: str, segments=("a",)) -> dict:
    return {
        "email": email,
        "phone": None,
        "first_name": first_name,
        "loyalty_card_ids": [],
        "email_contactable": True,
        "sms_contactable": False,
        "segments": list(segments),
    }


def test_a_rerun_of_the_date_that_changes_nothing_writes_nothing(monkeypatch):
    from cdp_pipeline.lib.activation import store

    con = _database([_person("anna@example.se", "Anna"), _person("bo@example.se", "Bo"), _person("cy@x.se", "Cy")])
    dest, day = _destination("esp", ("email",)), date(2025, 6, 1)

    def stored():
        return con.execute(
            "SELECT customer_id, row_key, row_values FROM activation.export_members "
            "WHERE destination = 'd' AND run_date = $d ORDER BY row_key",
            {"d": day},
        ).fetchall()

    written: list[str] = []
    run_sql = store.run_sql

    def recording(con, sql_dir, name, *args, **kwargs):
        written.append(name)
        return run_sql(con, sql_dir, name, *args, **kwargs)

    monkeypatch.setattr(store, "run_sql", recording)
    assert store.replace_export_members(con, dest, day).rows == 3
    first = stored()
    assert [r[1] for r in first] == ["anna@example.se", "bo@example.se", "cy@x.se"]
    assert "insert_export_members" in written
    written.clear()
    assert store.replace_export_members(con, dest, day).rows == 3  # the same rows: kept as they are
    assert written == [] and stored() == first
    # the same number of rows, one value changed: replaced
    con.execute("UPDATE golden.customers SET first_name = 'Bodil' WHERE customer_id = 'c01'")
    store.replace_export_members(con, dest, day)
    assert "insert_export_members" in written and json.loads(stored()[1][2])["first_name"] == "Bodil"
    # one row fewer: replaced
    written.clear()
    con.execute("UPDATE golden.customers SET email_contactable = false WHERE customer_id = 'c02'")
    store.replace_export_members(con, dest, day)
    assert "insert_export_members" in written and [r[1] for r in stored()] == ["anna@example.se", "bo@example.se"]


def test_a_rerun_keeps_the_stored_rows_only_when_they_are_tonights_row_for_row(monkeypatch):
    """The stored rows are kept only when they are exactly tonight's: a row stored twice, a row of another
    customer under the same key, another flag or one row more are each replaced by tonight's rows."""
    from cdp_pipeline.lib.activation import store

    con = _database([_person("anna@example.se", "Anna"), _person("bo@example.se", "Bo")])
    dest, day = _destination("esp", ("email",)), date(2025, 6, 1)
    where = "destination = 'd' AND run_date = DATE '2025-06-01'"

    def stored():
        return con.execute(
            f"SELECT customer_id, row_key, row_values, sent_email, sent_phone FROM activation.export_members "
            f"WHERE {where} ORDER BY ALL"
        ).fetchall()

    store.replace_export_members(con, dest, day)
    tonight = stored()
    assert [r[:2] for r in tonight] == [("c00", "anna@example.se"), ("c01", "bo@example.se")]
    tampering = [
        f"INSERT INTO activation.export_members SELECT * FROM activation.export_members WHERE {where} "
        "AND row_key = 'bo@example.se'",
        f"UPDATE activation.export_members SET customer_id = 'c09' WHERE {where} AND row_key = 'bo@example.se'",
        f"UPDATE activation.export_members SET sent_phone = true WHERE {where} AND row_key = 'anna@example.se'",
        f"INSERT INTO activation.export_members SELECT * REPLACE ('cy@x.se' AS row_key) FROM activation.export_members "
        f"WHERE {where} AND row_key = 'bo@example.se'",
        f"DELETE FROM activation.export_members WHERE {where} AND row_key = 'anna@example.se'",
    ]
    for statement in tampering:
        con.execute(statement)
        assert stored() != tonight
        store.replace_export_members(con, dest, day)
        assert stored() == tonight, statement
