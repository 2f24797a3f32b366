"""The consent check's DuckDB reading of export files agrees with the plain Python rule
(``reference_rows.unconsented_file_rows`` over ``read_csv_rows``), including on files no exporter would write."""

import hashlib

import duckdb
import pytest

from cdp_pipeline.lib.activation.consent_gate import (
    count_unconsented_file_values,
    csv_header,
    file_identifier_values,
    register_consent_check_functions,
    unconsented_file_values,
)
from cdp_pipeline.lib.activation.csv_safe import render_csv
from cdp_pipeline.lib.activation.destinations import parse_destinations
from cdp_pipeline_tests.lib.activation.reference_rows import read_csv_rows, unconsented_file_rows

ALLOWED = [
    ("email", "ok@example.se"),
    ("email", "two@example.se"),
    ("phone", "+46701234567"),
    ("loyalty_card_id", "LC-1"),
    ("loyalty_card_id", "=LC-2"),
    ("loyalty_card_id", None),
    ("email_sha256", "a" * 64),
    ("meta_phone_sha256", "b" * 64),
]


def _dest(kind):
    return parse_destinations([{"name": "d", "kind": kind, "segments": ["a"]}])[0]


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE TEMP TABLE allowed (identifier_kind VARCHAR, value VARCHAR)")
    c.executemany("INSERT INTO allowed VALUES (?, ?)", ALLOWED)
    register_consent_check_functions(c)
    yield c
    c.close()


def _python_rule(path, dest):
    allowed: dict[str, set] = {}
    for kind, value in ALLOWED:
        allowed.setdefault(kind, set()).add(value)
    return unconsented_file_rows(read_csv_rows(path), dest, allowed)


FILES = {
    "esp_clean": ("esp", 'Email Address,First Name,Tags\nok@example.se,Ok,a\ntwo@example.se,"Two, Jr",a\n'),
    "esp_unconsented": ("esp", "Email Address,First Name,Tags\nok@example.se,Ok,a\nnope@example.se,No,a\n"),
    "esp_blank_and_missing": ("esp", "Email Address,First Name,Tags\n,Blank,a\n   ,Spaces,a\nok@example.se,Ok,a\n"),
    "esp_padded_values": (
        "esp",
        "Email Address,First Name,Tags\n  ok@example.se \t,Ok,a\n\u00a0two@example.se\u2003,T,a\n",
    ),
    "esp_prefixed": ("esp", "Email Address,First Name,Tags\n'ok@example.se,Ok,a\n''ok@example.se,Ok,a\n"),
    "esp_blank_lines": ("esp", "Email Address,First Name,Tags\n\nok@example.se,Ok,a\n\nnope@example.se,No,a\n"),
    "esp_short_row": ("esp", "Email Address,First Name,Tags\nok@example.se,Ok,a\nnope@example.se\n"),
    "esp_short_row_blank": ("esp", "First Name,Tags,Email Address\nOk,a,ok@example.se\nNo\n"),
    "esp_long_row": ("esp", "Email Address,First Name,Tags\nok@example.se,Ok,a,extra\n"),
    "esp_repeated_header": (
        "esp",
        "Email Address,First Name,Email Address\nnope@example.se,X,ok@example.se\nok@example.se,X,nope@example.se\n",
    ),
    "esp_missing_column": ("esp", "mail,First Name,Tags\nok@example.se,Ok,a\n"),
    "esp_quoted_newline": (
        "esp",
        'Email Address,First Name,Tags\nok@example.se,"Line\nbreak",a\nnope@example.se,N,a\n',
    ),
    "esp_bad_quote": ("esp", 'Email Address,First Name,Tags\n"ok@example.se"x,Ok,a\nnope@example.se,N,a\n'),
    "esp_crlf": ("esp", "Email Address,First Name,Tags\r\nok@example.se,Ok,a\r\nnope@example.se,N,a\r\n"),
    "esp_no_trailing_newline": ("esp", "Email Address,First Name,Tags\nok@example.se,Ok,a\nnope@example.se,N,a"),
    "esp_header_only": ("esp", "Email Address,First Name,Tags\n"),
    "esp_empty_file": ("esp", ""),
    "esp_blank_first_line": ("esp", "\nEmail Address,First Name,Tags\nok@example.se,Ok,a\n"),
    "esp_bom": ("esp", "\ufeffEmail Address,First Name,Tags\nok@example.se,Ok,a\n"),
    "sms": ("sms", "phone,tags\n+46701234567,a\n'+46701234567,a\n+46709999999,a\n"),
    "meta": ("meta_audience", f"email,phone\n{'a' * 64},{'b' * 64}\n{'a' * 64},\n,{'c' * 64}\n,\n"),
    "pos": ("pos", "loyalty_card_id,a\nLC-1,1\n'=LC-2,0\n=LC-2,1\nLC-9,1\n"),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_duckdb_reading_finds_what_the_python_rule_finds(con, tmp_path, name):
    kind, text = FILES[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(text.encode("utf-8"))
    dest = _dest(kind)
    expected = _python_rule(path, dest)
    # row by row (the messages): exactly the Python rule's problems, in its order
    values = file_identifier_values(
        text,
        ["Email Address"]
        if kind == "esp"
        else list({"sms": ["phone"], "meta_audience": ["email", "phone"], "pos": ["loyalty_card_id"]}[kind]),
    )
    assert unconsented_file_values(con, values, dest, "allowed") == expected
    # counted in DuckDB (the night's pass): none exactly when the rule finds none; a file DuckDB's strict
    # reader refuses, or without identifier columns, is read in Python instead
    try:
        count = count_unconsented_file_values(con, path, csv_header(text), dest, "allowed")
    except duckdb.Error:
        assert name in ("esp_short_row", "esp_short_row_blank", "esp_long_row", "esp_bad_quote", "esp_blank_first_line")
        return
    if count is None:  # no identifier column in the header: read in Python (every row is a problem)
        assert name in ("esp_missing_column", "esp_empty_file", "esp_blank_first_line", "esp_bom")
    else:
        assert count == len(expected)


def test_duckdb_count_on_an_exporter_file(con, tmp_path):
    dest = _dest("pos")
    rows = [
        {"loyalty_card_id": "LC-1", "a": 1},
        {"loyalty_card_id": "=LC-2", "a": 0},
        {"loyalty_card_id": "LC-3", "a": 1},
    ]
    path = tmp_path / "full.csv"
    path.write_bytes(render_csv(dest.columns, rows))
    text = path.read_text()
    assert count_unconsented_file_values(con, path, csv_header(text), dest, "allowed") == 1
    assert _python_rule(path, dest) == ["line 4: loyalty_card_id is not a consented identifier of a current customer"]
    con.execute("INSERT INTO allowed VALUES ('loyalty_card_id', 'LC-3')")
    assert count_unconsented_file_values(con, path, csv_header(text), dest, "allowed") == 0


def _golden(con):
    con.execute("CREATE SCHEMA golden")
    con.execute(
        "CREATE TABLE golden.customers (customer_id VARCHAR, email VARCHAR, phone VARCHAR, "
        "loyalty_card_ids VARCHAR[], email_contactable BOOLEAN, sms_contactable BOOLEAN)"
    )
    con.executemany(
        "INSERT INTO golden.customers VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("c1", "A@x.se", "+46700000001", ["LC-1"], True, False),
            ("c2", "b@x.se", "+46700000002", None, False, True),
            ("c3", "c@x.se", "+46700000003", [" LC-3"], True, True),  # email blocked in the ledger
            ("c4", None, None, ["LC-4"], None, None),
        ],
    )
    con.execute("CREATE TABLE golden.identifier_consent (channel VARCHAR, identifier VARCHAR, blocked BOOLEAN)")
    con.execute(
        "INSERT INTO golden.identifier_consent VALUES ('email', 'c@x.se', true), ('sms', '+46700000002', false)"
    )


def _sha(text):
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


# Allowed identifiers per (email consent required, SMS consent required), stated by hand from _golden:
# c3's email is blocked, so c3 is not email-contactable; c4 has no consent flags (NULL is no).
EXPECTED_ALLOWED = {
    (True, False): {("email", "a@x.se"), ("email_sha256", _sha("a@x.se")), ("loyalty_card_id", "LC-1")},
    (False, True): {
        *[("phone", p) for p in ("+46700000002", "+46700000003")],
        *[("meta_phone_sha256", _sha(p[1:])) for p in ("+46700000002", "+46700000003")],
        *[("google_phone_sha256", _sha(p)) for p in ("+46700000002", "+46700000003")],
        ("loyalty_card_id", "LC-3"),
    },
}
EXPECTED_ALLOWED[(False, False)] = {
    *EXPECTED_ALLOWED[(True, False)],
    *EXPECTED_ALLOWED[(False, True)],
    ("loyalty_card_id", "LC-4"),
}


def test_consented_identifiers_one_build_serves_every_requirement():
    from cdp_pipeline.lib.activation.consent_gate import ConsentedIdentifiers

    con = duckdb.connect()
    _golden(con)
    with ConsentedIdentifiers(con, ["email"]) as allowed:
        # a requirement asking for kinds the first build lacks rebuilds it with them
        for need in [(True, False), (False, True), (False, False)]:
            kinds = {"email", "email_sha256", "phone", "meta_phone_sha256", "google_phone_sha256", "loyalty_card_id"}
            table = allowed.table(need, kinds if need != (True, False) else {"email"})
            got = set(con.execute(f"SELECT identifier_kind, value FROM {table}").fetchall())
            wanted = EXPECTED_ALLOWED[need]
            if need == (True, False):
                wanted = {(k, v) for k, v in wanted if k == "email"}
            assert got == wanted, need
        # the email-only table built before the rebuild now holds every kind
        table = allowed.table((True, False), {"email_sha256"})
        assert (
            set(con.execute(f"SELECT identifier_kind, value FROM {table}").fetchall())
            == EXPECTED_ALLOWED[(True, False)]
        )
    assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name LIKE 'consent_check_%'").fetchall()
    assert not con.execute("SELECT * FROM duckdb_views() WHERE view_name LIKE 'consent_check_%'").fetchall()


def test_files_with_the_same_bytes_are_each_judged_under_their_own_name(tmp_path):
    # export_file_problems compares a file's bytes once per (bytes, kind, consent need): a first export's
    # delta_added is its full file. Each file must still get its own problems, its own checksum test, and a
    # file with other bytes or another consent need its own comparison.
    from cdp_pipeline.lib.activation.consent_gate import export_file_problems

    con = duckdb.connect()
    _golden(con)
    dest = parse_destinations([{"name": "esp", "kind": "esp", "segments": ["a"], "required_consent": ["email"]}])[0]
    # a@x.se is email-contactable; c@x.se is blocked in the ledger: one problem on line 3
    tampered = render_csv(dest.columns, [{"email": "a@x.se"}, {"email": "c@x.se"}], header=dest.header)
    clean = render_csv(dest.columns, [{"email": "a@x.se"}], header=dest.header)
    files = []
    for file_kind, data, logged in [
        ("full", tampered, tampered),
        ("delta_added", tampered, clean),  # the same bytes as full, but the log wrote other bytes
        ("delta_removed", tampered, tampered),  # removals need no consent
    ]:
        path = tmp_path / f"{file_kind}.csv"
        path.write_bytes(data)
        files.append(
            {
                "destination": dest.name,
                "kind": dest.kind,
                "run_date": "2026-10-01",
                "file_kind": file_kind,
                "path": str(path),
                "sha256": hashlib.sha256(logged).hexdigest(),
                "segments": ["a"],
                "required_consent": ["email"],
            }
        )
    # one POS file's bytes for two consent needs: LC-4 (c4, no consent flags) is allowed only where no
    # consent is required, so a comparison kept for one need must not answer for the other
    pos = tmp_path / "pos_full.csv"
    pos.write_bytes(render_csv(_dest("pos").columns, [{"loyalty_card_id": "LC-4", "a": 1}]))
    for name, need in [("pos_email", ["email"]), ("pos_any", [])]:
        files.append(
            {
                **files[0],
                "destination": name,
                "kind": "pos",
                "path": str(pos),
                "sha256": hashlib.sha256(pos.read_bytes()).hexdigest(),
                "required_consent": need,
            }
        )
    unconsented = "line 3: Email Address is not a consented identifier of a current customer"
    assert export_file_problems(con, files) == [
        f"esp 2026-10-01 full: {unconsented}",
        "esp 2026-10-01 delta_added: file changed since it was written (checksum differs from the log)",
        f"esp 2026-10-01 delta_added: {unconsented}",
        "pos_email 2026-10-01 full: line 2: loyalty_card_id is not a consented identifier of a current customer",
    ]


# The members' query as it was before it read the customers' flags (every member joined to golden and,
# by address and number, to the ledger): the reference the flag-based query must agree with, row for row.
_MEMBERS_REFERENCE = """
WITH blocked AS (SELECT channel, identifier FROM golden.identifier_consent WHERE blocked),
latest AS (
    SELECT destination, run_date, any_value(required_consent) AS required_consent
    FROM activation.export_log AS l
    WHERE run_date = (SELECT max(run_date) FROM activation.export_log AS x WHERE x.destination = l.destination)
    GROUP BY destination, run_date
)
SELECT m.destination, m.customer_id,
       CASE WHEN g.customer_id IS NULL THEN 'not in golden.customers (erased or merged)'
            WHEN list_contains(l.required_consent, 'email') AND NOT coalesce(g.email_contactable, false)
                THEN 'destination requires email consent'
            WHEN list_contains(l.required_consent, 'sms') AND NOT coalesce(g.sms_contactable, false)
                THEN 'destination requires SMS consent'
            WHEN m.sent_email AND NOT coalesce(g.email_contactable, false) THEN 'email sent without email consent'
            WHEN m.sent_phone AND NOT coalesce(g.sms_contactable, false) THEN 'phone sent without SMS consent'
            WHEN m.sent_email AND be.identifier IS NOT NULL THEN 'email blocked in golden.identifier_consent'
            ELSE 'phone blocked in golden.identifier_consent' END AS problem
FROM activation.export_members AS m
JOIN latest AS l USING (destination, run_date)
LEFT JOIN golden.customers AS g USING (customer_id)
LEFT JOIN blocked AS be ON be.channel = 'email' AND be.identifier = export_email(g.email)
LEFT JOIN blocked AS bp ON bp.channel = 'sms' AND bp.identifier = export_strip(g.phone)
WHERE g.customer_id IS NULL
   OR (list_contains(l.required_consent, 'email') AND NOT coalesce(g.email_contactable, false))
   OR (list_contains(l.required_consent, 'sms') AND NOT coalesce(g.sms_contactable, false))
   OR (m.sent_email AND NOT coalesce(g.email_contactable, false))
   OR (m.sent_phone AND NOT coalesce(g.sms_contactable, false))
   OR (m.sent_email AND be.identifier IS NOT NULL)
   OR (m.sent_phone AND bp.identifier IS NOT NULL)
"""


def test_export_members_are_judged_as_a_join_of_every_member_to_the_ledger_judges_them():
    from cdp_pipeline.lib.activation.consent_check import SQL_DIR
    from cdp_pipeline.lib.activation.consent_gate import ConsentedIdentifiers
    from cdp_pipeline.lib.common.sql_files import fetch_sql

    con = duckdb.connect()
    _golden(con)
    # a blocked address the ledger holds twice, a blocked NULL, a blocked number; a customer golden holds twice
    con.execute(
        "INSERT INTO golden.identifier_consent VALUES ('email', 'c@x.se', true), ('sms', NULL, true), "
        "('sms', '+46700000003', true)"
    )
    con.execute("INSERT INTO golden.customers VALUES ('c2', 'b@x.se', '+46700000002', NULL, false, true)")
    con.execute("CREATE SCHEMA activation")
    con.execute("CREATE TABLE activation.export_log (destination VARCHAR, run_date DATE, required_consent VARCHAR[])")
    con.execute(
        "INSERT INTO activation.export_log VALUES ('news', '2025-05-01', ['email']), ('news', '2025-06-01', ['email']), "
        "('texts', '2025-06-01', ['sms']), ('pos', '2025-06-01', [])"
    )
    con.execute(
        "CREATE TABLE activation.export_members "
        "(destination VARCHAR, run_date DATE, customer_id VARCHAR, sent_email BOOLEAN, sent_phone BOOLEAN)"
    )
    members = [
        (d, "2025-06-01", c, e, p)
        for d in ("news", "texts", "pos")
        for c in ("c1", "c2", "c3", "c4", "c5", None)  # c5 and NULL: in no golden row
        for e, p in ((True, False), (False, True), (True, True), (None, None))
    ]
    con.executemany("INSERT INTO activation.export_members VALUES (?, ?, ?, ?, ?)", members)
    con.execute("INSERT INTO activation.export_members VALUES ('news', '2025-05-01', 'c5', true, false)")  # not latest
    register_consent_check_functions(con)
    reference = sorted(con.execute(_MEMBERS_REFERENCE).fetchall(), key=str)
    with ConsentedIdentifiers(con) as allowed:
        got = fetch_sql(con, SQL_DIR, "select_unconsented_export_members", customers=allowed.customers())
    assert sorted(got, key=str) == reference
    # by hand: the ledger holds c3's blocked address twice, so each line of c3 comes twice (as the join made it)
    assert got.count(("pos", "c3", "email blocked in golden.identifier_consent")) == 4  # 2 members sent it
    assert got.count(("pos", "c3", "phone blocked in golden.identifier_consent")) == 2  # 1 sent the number only
    assert ("news", "c2", "destination requires email consent") in got
    assert got.count(("texts", "c5", "not in golden.customers (erased or merged)")) == 4


def test_a_part_of_a_file_is_checked_for_consent_as_the_file_it_is_part_of(tmp_path):
    # A file over its tool's import limit is also written as parts (exporter.IMPORT_FILE_LIMITS), and the
    # marketer uploads the parts: a part of full or delta_added must carry consented identifiers only,
    # a part of delta_removed needs none.
    from cdp_pipeline.lib.activation.consent_gate import export_file_problems

    con = duckdb.connect()
    _golden(con)
    dest = parse_destinations([{"name": "esp", "kind": "esp", "segments": ["a"], "required_consent": ["email"]}])[0]
    data = render_csv(dest.columns, [{"email": "a@x.se"}, {"email": "c@x.se"}], header=dest.header)  # c: blocked
    path = tmp_path / "part.csv"
    path.write_bytes(data)
    files = [
        {
            "destination": dest.name,
            "kind": dest.kind,
            "run_date": "2026-10-01",
            "file_kind": file_kind,
            "path": str(path),
            "sha256": hashlib.sha256(data).hexdigest(),
            "segments": ["a"],
            "required_consent": ["email"],
        }
        for file_kind in ("full_part02", "delta_added_part01", "delta_removed_part01")
    ]
    unconsented = "line 3: Email Address is not a consented identifier of a current customer"
    assert export_file_problems(con, files) == [
        f"esp 2026-10-01 full_part02: {unconsented}",
        f"esp 2026-10-01 delta_added_part01: {unconsented}",
    ]
