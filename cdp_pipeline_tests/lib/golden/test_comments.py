"""The golden tables' column comments, their docs/tables.md sections (drift test), and the analyst queries in docs."""

import re
from pathlib import Path

import pytest

from cdp_pipeline.lib.golden.comments import GOLDEN_TABLE_DOCS
from cdp_pipeline.lib.publish.tables_md import documented_tables, generate_tables_md, split_tables_md

REPO = Path(__file__).resolve().parents[3]
TABLES_MD = REPO / "docs" / "tables.md"
ANALYST_QUERIES = REPO / "docs" / "analyst_queries.md"


def test_every_golden_table_and_column_has_a_comment(world):
    tables = world.execute("""SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'golden'
                              ORDER BY table_name""").fetchall()
    # and the build's internal state (a leading underscore: not in docs/tables.md)
    assert [t for t, _ in tables] == [
        "_build_state",
        "_identifier_state",
        "_record_state",
        "customer_timeline",
        "customers",
        "identifier_consent",
    ]
    assert all(c for _, c in tables)
    uncommented = world.execute("""SELECT table_name, column_name FROM duckdb_columns()
                                   WHERE schema_name = 'golden' AND coalesce(comment, '') = ''""").fetchall()
    assert uncommented == []


def test_docs_tables_md_matches_the_comments(world):
    """Regenerate with: python -m cdp_pipeline.lib.publish.write_tables_md"""
    assert TABLES_MD.exists(), "docs/tables.md is missing"
    documented = split_tables_md(TABLES_MD.read_text(encoding="utf-8"))
    generated = split_tables_md(generate_tables_md(world, [("golden", t) for t in GOLDEN_TABLE_DOCS]))
    for name, section in generated.items():
        assert documented.get(name) == section, f"docs/tables.md section {name} drifted from the DuckDB comments"


def test_contract_tables_of_other_layers_are_rendered_when_present(world):
    names = [f"{s}.{t}" for s, t in documented_tables(world)]
    assert names == [
        "identity.customer_map",
        "golden.customer_timeline",
        "golden.customers",
        "golden.identifier_consent",
    ]


def analyst_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", ANALYST_QUERIES.read_text(encoding="utf-8"), flags=re.S)


def test_docs_hold_a_handful_of_analyst_queries():
    text = ANALYST_QUERIES.read_text(encoding="utf-8").lower()
    assert len(analyst_queries()) >= 5
    for topic in ("top customers", "channel overlap", "consent coverage"):
        assert topic in text


def analyst_query_titles() -> list[str]:
    """The headings of docs/analyst_queries.md's queries, one per query."""
    titles = re.findall(r"^## (.+)\n", ANALYST_QUERIES.read_text(encoding="utf-8"), flags=re.M)
    assert len(titles) == len(analyst_queries())
    return titles


ABANDONED_CARTS = "Abandoned carts we may email today"


@pytest.mark.parametrize("title", analyst_query_titles())
def test_analyst_query_runs_on_the_fixture_world_and_finds_its_rows(world, title):
    rows = world.execute(analyst_query(title)).fetchall()
    if title == ABANDONED_CARTS:
        # the world's one abandoned cart is Dan's (C4), who has no e-mail address: none to email
        assert rows == []
    else:
        assert rows, title


def test_the_abandoned_carts_query_finds_the_cart_once_the_consent_filter_is_gone(world):
    """Proves the query above finds nothing because of the consent filter, not of a cart it misses."""
    sql = analyst_query(ABANDONED_CARTS)
    assert "AND email_contactable" in sql
    rows = world.execute(sql.replace("AND email_contactable", "")).fetchall()
    assert [r[0] for r in rows] == ["C4"]


def analyst_query(title: str) -> str:
    """The SQL under the heading ``## title`` of docs/analyst_queries.md."""
    text = ANALYST_QUERIES.read_text(encoding="utf-8")
    return re.search(rf"## {re.escape(title)}\n.*?```sql\n(.*?)```", text, flags=re.S).group(1)


def test_active_customers_and_channel_overlap_count_what_customers_did_not_what_was_sent_or_consented():
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE SCHEMA golden")
    con.execute("""CREATE TABLE golden.customer_timeline AS SELECT * FROM (VALUES
        ('C1', TIMESTAMP '2021-03-04 10:00', 'email', 'consent_granted'),   -- CRM opt-in at sign-up
        ('C1', TIMESTAMP '2024-02-05 10:00', 'email', 'consent_revoked'),   -- the ESP cleaned the address
        ('C2', TIMESTAMP '2024-02-06 10:00', 'sms', 'sms_outbound'),
        ('C2', TIMESTAMP '2024-02-07 10:00', 'whatsapp', 'whatsapp_outbound'),
        ('C3', TIMESTAMP '2024-02-08 10:00', 'email', 'email_bounce'),
        ('C3', TIMESTAMP '2024-02-09 10:00', 'email', 'email_open'),
        ('C4', TIMESTAMP '2024-02-10 10:00', 'email', 'email_click'),
        ('C4', TIMESTAMP '2024-02-11 10:00', 'sms', 'sms_inbound'),
        ('C4', TIMESTAMP '2024-03-01 10:00', 'online', 'online_order'))
        t(customer_id, event_time, channel, event_type)""")
    rows = con.execute(analyst_query("Monthly active customers per channel")).fetchall()
    assert [(m.strftime("%Y-%m"), ch, n) for m, ch, n in rows] == [
        ("2024-02", "email", 2),
        ("2024-02", "sms", 1),
        ("2024-03", "online", 1),
    ]
    overlap = con.execute(analyst_query("Channel overlap: which combinations of channels customers use")).fetchall()
    assert overlap == [("email", 1), ("email + online + sms", 1)]  # C1 and C2 used none
