"""identity.anonymous_visitors (lib/identity/anonymous.py): the web cookies never seen with a
user_id, whatever the web source calls its cookie column; empty without web events."""

import duckdb
import pytest

from cdp_pipeline.lib.identity.anonymous import write_anonymous_visitors


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA identity")
    yield con
    con.close()


@pytest.mark.parametrize("cookie", ["user_pseudo_id", "cookie"])
def test_cookies_never_seen_with_a_user_id_are_counted_with_their_events(con, cookie):
    con.execute(f"""CREATE TABLE staging.web_events AS SELECT * FROM (VALUES
                    ('ck-b', NULL), ('ck-a', NULL), ('ck-a', NULL), ('ck-a', NULL),
                    ('ck-known', NULL), ('ck-known', 'u1'), (NULL, NULL), (NULL, 'u2')) t({cookie}, user_id)""")
    assert write_anonymous_visitors(con) == 2
    # in cookie order; a cookie seen once with a user_id is not anonymous, a NULL cookie no visitor
    assert con.execute("SELECT * FROM identity.anonymous_visitors").fetchall() == [("ck-a", 3), ("ck-b", 1)]


def test_tonights_web_events_replace_last_nights_visitors(con):
    con.execute("CREATE TABLE staging.web_events AS SELECT 'ck-a' AS user_pseudo_id, NULL::VARCHAR AS user_id")
    assert write_anonymous_visitors(con) == 1
    con.execute("UPDATE staging.web_events SET user_id = 'u1'")
    assert write_anonymous_visitors(con) == 0
    assert con.execute("SELECT count(*) FROM identity.anonymous_visitors").fetchone() == (0,)


@pytest.mark.parametrize(
    "web_events",
    [
        None,
        "CREATE TABLE staging.web_events AS SELECT 'ck-a' AS user_pseudo_id",
        "CREATE TABLE staging.web_events (x INT)",
    ],
)
def test_without_web_events_with_a_cookie_and_a_user_id_the_table_is_empty(con, web_events):
    con.execute("CREATE TABLE identity.anonymous_visitors AS SELECT 'ck-old' AS user_pseudo_id, 1::BIGINT AS events")
    if web_events:
        con.execute(web_events)
    assert write_anonymous_visitors(con) is None
    assert con.execute("SELECT * FROM identity.anonymous_visitors").fetchall() == []
    assert [c[0] for c in con.execute("DESCRIBE identity.anonymous_visitors").fetchall()] == [
        "user_pseudo_id",
        "events",
    ]
