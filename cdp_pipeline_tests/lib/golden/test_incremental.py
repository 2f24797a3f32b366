"""Issue 8.3: golden built incrementally (only the records and customers whose inputs changed,
``lib/golden/incremental.py``) gives the same tables as golden built whole from the same inputs."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta

import duckdb
import pytest

from cdp_pipeline.lib.golden import incremental
from cdp_pipeline.lib.golden.build import SQL_DIR, build_golden
from cdp_pipeline.lib.golden.quality import check_timeline_complete
from cdp_pipeline_tests.lib.golden.conftest import golden_row
from cdp_pipeline_tests.lib.golden.world import AS_OF, consent, create_contract_tables, insert, ts, world_db

TABLES = (
    "golden.customers",
    "golden.customer_timeline",
    "golden.identifier_consent",
    "golden._record_state",
    "golden._build_state",
)


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


class Twins:
    """Two databases that get the same changes: one built incrementally, one built whole."""

    def __init__(self, make):
        self.inc, self.full = make(), make()

    def sql(self, statement: str, params: list | dict | None = None) -> None:
        for con in (self.inc, self.full):
            con.execute(statement, params or [])

    def insert(self, table: str, rows: list[dict]) -> None:
        for con in (self.inc, self.full):
            insert(con, table, rows)

    def build(self, as_of: date):
        """Build both; check they agree; return the incremental build."""
        got = build_golden(self.inc, as_of, tz="UTC")
        build_golden(self.full, as_of, tz="UTC", full_refresh=True)
        inc, full = contents(self.inc), contents(self.full)
        for table in TABLES:
            assert inc[table] == full[table], f"{table} differs from a whole build ({got.mode}: {got.reason})"
        assert check_timeline_complete(self.inc).passed
        return got


@pytest.fixture
def small_world(monkeypatch):
    """In a world of a handful of customers, a night touches most of them: build incrementally anyway."""
    monkeypatch.setattr(incremental, "MAX_AFFECTED_SHARE", 1.0)


# ------------------------------------------------------------------ the hand-made world, change by change


def test_a_night_of_changes_gives_the_tables_of_a_whole_build(small_world):
    t = Twins(world_db)
    first = t.build(AS_OF)
    assert first.mode == "full" and first.reason == "no kept state"

    # new events for some customers: an order and an email click for Anna, a web purchase for Dan
    t.insert(
        "staging.orders",
        [
            dict(
                order_id="order:#1003",
                source="pos",
                source_record_id="order:#1003",
                channel="online",
                ordered_at=ts("2025-01-11 09:00"),
                currency="SEK",
                total=70,
            )
        ],
    )
    t.insert("identity.customer_map", [dict(source="pos", source_record_id="order:#1003", customer_id="C1")])
    t.insert(
        "staging.identity_records",
        [dict(source="pos", source_record_id="order:#1003", record_time=ts("2025-01-11 09:00"), email="anna@crm.se")],
    )
    t.insert(
        "staging.email_activity",
        [
            dict(
                activity_id="a6",
                source="esp",
                source_record_id="leid-a",
                email="anna.new@mail.se",
                action="click",
                event_time=ts("2025-01-11 08:00"),
                campaign_id="c2",
            )
        ],
    )
    t.insert(
        "staging.web_events",
        [
            dict(
                event_id="d2",
                source="web",
                source_record_id="400",
                cookie="ck4",
                user_id="400",
                session_id="s6",
                event_time=ts("2025-01-11 10:00"),
                event_name="purchase",
                transaction_id="t1",
                revenue=10,
                currency="SEK",
            )
        ],
    )
    # a changed event: a refund on Bo's order
    t.sql("UPDATE staging.orders SET refunded_amount = 40 WHERE order_id = 'order:#2001'")
    # a merge: Bo's records join Cecilia
    t.sql("UPDATE identity.customer_map SET customer_id = 'C3' WHERE customer_id = 'C2'")
    # a split: Dan's CRM record 401 becomes a customer of its own
    t.sql("UPDATE identity.customer_map SET customer_id = 'C5' WHERE source = 'crm' AND source_record_id = '401'")
    # a removed record, with its events: Anna's first receipt
    t.sql("DELETE FROM identity.customer_map WHERE source_record_id = 'receipt:S1:R1'")
    t.sql("DELETE FROM staging.identity_records WHERE source_record_id = 'receipt:S1:R1'")
    t.sql("DELETE FROM staging.orders WHERE order_id = 'receipt:S1:R1'")
    # a changed identity record: Cecilia's ESP name
    t.sql("UPDATE staging.identity_records SET first_name = 'Cecilia' WHERE source_record_id = 'leid-c'")
    # and the as-of date moves a day
    night = t.build(AS_OF + timedelta(days=1))
    assert night.mode == "incremental"
    # C1 (new order, click, lost receipt), C2 (gone), C3 (merged into, renamed), C4 (split, purchase), C5 (new)
    assert night.customers_rebuilt == 4  # C1, C3, C4, C5 (C2 has no records left)


def test_a_quiet_night_redoes_only_whom_the_date_reaches(small_world):
    t = Twins(world_db)
    t.build(AS_OF)
    same_day = t.build(AS_OF)
    assert (same_day.mode, same_day.customers_rebuilt, same_day.timeline_records_rebuilt) == ("incremental", 0, 0)
    # 2025-01-12: the receipt of the 12th (Anna) comes inside the cutoff; nobody else has an event on the 11th
    # (nor 30 or 90 days before), but Cecilia's later opt-out (01-11) now counts.
    next_day = t.build(date(2025, 1, 12))
    assert next_day.mode == "incremental" and next_day.customers_rebuilt == 2


def test_a_night_with_nothing_to_redo_runs_no_rebuild_and_the_next_change_is_still_built(small_world, monkeypatch):
    from cdp_pipeline.lib.golden import build as golden_build

    t = Twins(world_db)
    t.build(AS_OF)
    rebuild = golden_build._build_incremental

    def refused(*args, **kwargs):
        raise AssertionError("nothing changed: no incremental rebuild expected")

    run_sql = golden_build.run_sql

    def no_ranks(con, sql_dir, name, *args, **kwargs):
        if con is t.inc and name in ("create_golden_ranks", "update_golden_ranks"):
            raise AssertionError("nothing changed, same date: the ranks are not computed again")
        return run_sql(con, sql_dir, name, *args, **kwargs)

    monkeypatch.setattr(golden_build, "_build_incremental", refused)
    monkeypatch.setattr(golden_build, "run_sql", no_ranks)
    same = t.build(AS_OF)  # the tables still those of a whole build (Twins.build compares them)
    assert (same.mode, same.customers_rebuilt, same.timeline_records_rebuilt) == ("incremental", 0, 0)
    # a changed record the next night (same day): rebuilt, from the state the empty night kept
    monkeypatch.setattr(golden_build, "_build_incremental", rebuild)
    monkeypatch.setattr(golden_build, "run_sql", run_sql)
    t.sql("UPDATE staging.identity_records SET first_name = 'Cecilia' WHERE source_record_id = 'leid-c'")
    changed = t.build(AS_OF)
    assert (changed.mode, changed.customers_rebuilt) == ("incremental", 1)


def test_a_later_date_with_nothing_to_redo_still_moves_the_ranks(small_world):
    t = Twins(world_db)
    t.build(date(2025, 1, 12))
    # 2025-01-13: no event on the 12th, nor 30 or 90 days before it: no row to redo, but every
    # row's as-of date and days since the last order move (Twins.build compares with a whole build).
    later = t.build(date(2025, 1, 13))
    assert (later.mode, later.customers_rebuilt, later.timeline_records_rebuilt) == ("incremental", 0, 0)
    assert t.inc.execute("SELECT DISTINCT as_of_date FROM golden.customers").fetchall() == [(date(2025, 1, 13),)]


def test_the_as_of_date_moving_back_and_forth(small_world):
    t = Twins(world_db)
    t.build(AS_OF)
    for day in (date(2025, 1, 5), date(2025, 1, 12), date(2024, 12, 2), AS_OF, date(2025, 2, 8)):
        t.build(day)


# ------------------------------------------------------------------ many random nights on a generated world

SOURCES = ("crm", "esp", "pos", "sms", "web")


class World:
    """A random world of a few dozen customers; every change is made to both twins."""

    def __init__(self, seed: int, start: date):
        self.rnd = random.Random(seed)
        self.start = start
        self.twins = Twins(self._empty)
        self.records: dict[tuple[str, str], str] = {}
        self.n = 0
        for c in range(40):
            for _ in range(self.rnd.randint(1, 3)):
                self.add_record(f"C{c:03d}")

    @staticmethod
    def _empty():
        con = duckdb.connect()
        create_contract_tables(con)
        return con

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def when(self, around: date | None = None, days: int = 120) -> datetime:
        """A random time within ``days`` before ``around``, or a few days after it."""
        base = datetime.combine(around or self.start, datetime.min.time())
        return base - timedelta(
            days=self.rnd.randint(-3, days), hours=self.rnd.randint(0, 23), minutes=self.rnd.choice((0, 0, 30))
        )

    def add_record(self, customer: str, around: date | None = None) -> None:
        source = self.rnd.choice(SOURCES)
        rid = self._id(f"{source}-")
        self.records[(source, rid)] = customer
        self.twins.insert("identity.customer_map", [dict(source=source, source_record_id=rid, customer_id=customer)])
        self.twins.insert(
            "staging.identity_records",
            [
                dict(
                    source=source,
                    source_record_id=rid,
                    record_time=self.when(around),
                    first_name=self.rnd.choice(("Anna", "Bo", "Cecilia", None)),
                    last_name=self.rnd.choice(("Ek", "Berg")),
                    email=self.rnd.choice((f"{customer}@x.se", f"{rid}@y.se", None)),
                    phone=self.rnd.choice(("+46701111111", None)),
                    email_is_junk=self.rnd.random() < 0.1,
                    cookies=[f"ck-{rid}"] if source == "web" else None,
                )
            ],
        )
        for _ in range(self.rnd.randint(0, 6)):
            self.add_event(source, rid, around)

    def add_event(self, source: str, rid: str, around: date | None = None) -> None:
        when, eid, kind = self.when(around), self._id("e"), self.rnd.randrange(6)
        if kind == 0:
            store = self.rnd.random() < 0.5
            self.twins.insert(
                "staging.orders",
                [
                    dict(
                        order_id=eid,
                        source=source,
                        source_record_id=rid,
                        channel="store" if store else "online",
                        ordered_at=when,
                        currency="SEK",
                        total=self.rnd.randint(1, 900),
                        refunded_amount=self.rnd.choice((None, 0, 10)),
                        store_id=self.rnd.choice(("S1", "S2")) if store else None,
                        financial_status=self.rnd.choice(("paid", "paid", "voided")),
                        cancelled_at=when + timedelta(days=self.rnd.randint(0, 5)) if self.rnd.random() < 0.2 else None,
                    )
                ],
            )
        elif kind == 1:
            self.twins.insert(
                "staging.email_activity",
                [
                    dict(
                        activity_id=eid,
                        source=source,
                        source_record_id=rid,
                        action=self.rnd.choice(("open", "click")),
                        event_time=when,
                        campaign_id="c1",
                        email="x@y.se",
                    )
                ],
            )
        elif kind == 2:
            self.twins.insert(
                "staging.sms_messages",
                [
                    dict(
                        message_id=eid,
                        source=source,
                        channel="sms",
                        source_record_id=rid,
                        body="hi",
                        direction=self.rnd.choice(("inbound", "outbound")),
                        status="delivered",
                        sent_at=when,
                    )
                ],
            )
        elif kind == 3:
            self.twins.insert(
                "staging.web_sessions",
                [dict(session_id=eid, source=source, source_record_id=rid, started_at=when, page_views=2)],
            )
        elif kind == 4:
            self.twins.insert(
                "staging.web_events",
                [
                    dict(
                        event_id=eid,
                        source=source,
                        source_record_id=rid,
                        session_id="s",
                        event_time=when,
                        event_name=self.rnd.choice(("add_to_cart", "purchase", "login", "page_view")),
                    )
                ],
            )
        else:
            channel = self.rnd.choice(("email", "sms"))
            self.twins.insert(
                "staging.consent_events",
                [
                    dict(
                        source=source,
                        source_record_id=rid,
                        channel=channel,
                        identifier=f"{rid}-{channel}",
                        state=self.rnd.choice(("granted", "revoked")),
                        reason=self.rnd.choice(("subscribed", "unsubscribed", "accepts_marketing", "sms_stop")),
                        event_time=when,
                    )
                ],
            )

    def night(self, as_of: date) -> None:
        """A night's worth of random changes (about a tenth of the world)."""
        rnd, keys = self.rnd, sorted(self.records)
        for _ in range(4):  # new events, some of them right at a window's edge
            source, rid = rnd.choice(keys)
            self.add_event(source, rid, rnd.choice((as_of, as_of - timedelta(days=30), as_of - timedelta(days=90))))
        source, rid = rnd.choice(keys)  # an order that tomorrow's cutoff will find cancelled
        noon = datetime.combine(as_of, datetime.min.time()) + timedelta(hours=12)
        self.twins.insert(
            "staging.orders",
            [
                dict(
                    order_id=self._id("e"),
                    source=source,
                    source_record_id=rid,
                    channel="online",
                    currency="SEK",
                    ordered_at=noon - timedelta(days=2),
                    total=100,
                    cancelled_at=noon + timedelta(days=1),
                )
            ],
        )
        source, rid = rnd.choice(keys)  # a changed event
        self.twins.sql(
            "UPDATE staging.orders SET refunded_amount = coalesce(refunded_amount, 0) + 5 "
            "WHERE source = ? AND source_record_id = ?",
            [source, rid],
        )
        self.twins.sql(
            "UPDATE staging.email_activity SET action = 'click' WHERE source = ? AND source_record_id = ?",
            [source, rid],
        )
        customers = sorted(set(self.records.values()))
        a, b = rnd.sample(customers, 2)  # a merge
        self.twins.sql("UPDATE identity.customer_map SET customer_id = ? WHERE customer_id = ?", [a, b])
        self.records = {k: (a if c == b else c) for k, c in self.records.items()}
        source, rid = rnd.choice(keys)  # a split
        new = self._id("N")
        self.twins.sql(
            "UPDATE identity.customer_map SET customer_id = ? WHERE source = ? AND source_record_id = ?",
            [new, source, rid],
        )
        self.records[(source, rid)] = new
        source, rid = rnd.choice(keys)  # a removed record, with its events
        for table in (
            "identity.customer_map",
            "staging.identity_records",
            "staging.orders",
            "staging.email_activity",
            "staging.sms_messages",
            "staging.web_sessions",
            "staging.web_events",
            "staging.consent_events",
        ):
            self.twins.sql(f"DELETE FROM {table} WHERE source = ? AND source_record_id = ?", [source, rid])
        del self.records[(source, rid)]
        source, rid = rnd.choice(sorted(self.records))  # a changed identity record
        self.twins.sql(
            "UPDATE staging.identity_records SET first_name = 'Changed', record_time = ? "
            "WHERE source = ? AND source_record_id = ?",
            [self.when(as_of, 2), source, rid],
        )
        self.add_record(rnd.choice(customers + [self._id("NEW")]), as_of)  # a new record


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_nights_give_the_tables_of_a_whole_build(seed, small_world):
    day = date(2025, 3, 1)
    world = World(seed, day)
    assert world.twins.build(day).mode == "full"
    modes = []
    for step in (1, 1, 0, 1, 2, -3, 1):
        day += timedelta(days=step)
        world.night(day)
        modes.append(world.twins.build(day).mode)
    assert set(modes) == {"incremental"}


# ------------------------------------------------------------------ when a build must be whole


@pytest.fixture
def built():
    con = world_db()
    build_golden(con, AS_OF, tz="UTC")
    return con


def test_a_full_refresh_is_whole(built):
    assert build_golden(built, AS_OF, tz="UTC", full_refresh=True).mode == "full"
    assert build_golden(built, AS_OF, tz="UTC").mode == "incremental"


def test_other_code_is_a_whole_build(built, monkeypatch):
    monkeypatch.setattr(incremental, "code_version", lambda *args, **kwargs: "other")
    got = build_golden(built, AS_OF, tz="UTC")
    assert (got.mode, got.reason) == ("full", "golden code, rules or inputs changed")


def test_after_an_erasure_the_build_is_whole(built):
    # An erasure deletes rows of the golden tables themselves (and logs itself).
    built.execute("CREATE SCHEMA audit; CREATE TABLE audit.erasure_log (request_id VARCHAR)")
    built.execute("INSERT INTO audit.erasure_log VALUES ('r1')")
    assert build_golden(built, AS_OF, tz="UTC").reason == "an erasure ran since the last build"
    built.execute("DELETE FROM golden.customers WHERE customer_id = 'C4'")
    assert build_golden(built, AS_OF, tz="UTC").reason == "golden tables changed since the last build"
    assert golden_row(built, "C4")["first_name"] == "Dan"


def test_a_build_that_stopped_half_way_is_followed_by_a_whole_build(built, monkeypatch):
    from cdp_pipeline.lib.golden import build as build_module

    def boom(*args, **kwargs):
        raise RuntimeError("killed")

    # (a step every build takes once the tables are being written: tonight nothing changed, so
    # no customer is recomputed)
    monkeypatch.setattr(build_module, "apply_golden_comments", boom)
    with pytest.raises(RuntimeError):
        build_golden(built, AS_OF, tz="UTC")
    monkeypatch.undo()
    assert build_golden(built, AS_OF, tz="UTC").reason == "no kept state"


def test_most_customers_changed_is_a_whole_build(built):
    built.execute("UPDATE staging.identity_records SET first_name = upper(first_name)")
    got = build_golden(built, AS_OF, tz="UTC")
    assert got.mode == "full" and got.reason.endswith("customers to redo")


def test_the_time_keys_cover_every_trait_window():
    """Every 'cutoff - N days' of the traits is a window the time keys look behind."""
    traits = (SQL_DIR / "create_customer_traits.sql").read_text()
    keys = (SQL_DIR / "create_golden_time_keys.sql").read_text()
    used = {int(n) for n in re.findall(r"\$cutoff AS TIMESTAMP\) - INTERVAL (\d+) DAY", traits)}
    covered = {int(n) for n in re.findall(r"\$hi AS TIMESTAMP\) - INTERVAL (\d+) DAY", keys)}
    assert used and used == covered == set(incremental.TRAIT_WINDOWS_DAYS)


# An event of Dan's CRM record 401 (C4) whose time falls inside a window of the traits at the cutoff of 2025-01-12
# and outside it at the cutoff of 2025-01-13; nothing else in the world has a time on the 12th, nor 30 or 90 days
# before it (test_a_later_date_with_nothing_to_redo_still_moves_the_ranks).
_DAY, _NEXT_DAY = date(2025, 1, 12), date(2025, 1, 13)


def _crossing(days: int) -> datetime:
    return ts("2025-01-13 01:00") - timedelta(days=days)


def _event(kind: str, days: int) -> tuple[str, dict]:
    """A staging row of ``kind`` at a time that leaves the window of ``days`` days the next night."""
    at, rec = _crossing(days), dict(source="crm", source_record_id="401")
    if kind in ("open", "click"):
        return "staging.email_activity", dict(
            activity_id=f"x-{kind}", action=kind, event_time=at, campaign_id="c1", email="dan@x.se", **rec
        )
    if kind == "web_session":
        return "staging.web_sessions", dict(session_id="x-s", started_at=at, page_views=1, **rec)
    if kind in ("add_to_cart", "login"):
        return "staging.web_events", dict(event_id=f"x-{kind}", session_id="x-s", event_time=at, event_name=kind, **rec)
    if kind == "order":
        return "staging.orders", dict(
            order_id="x-o", channel="online", ordered_at=at, currency="SEK", total=5, cancelled_at=at, **rec
        )
    if kind == "sms":
        return "staging.sms_messages", dict(
            message_id="x-m", channel="sms", body="hi", direction="inbound", status="delivered", sent_at=at, **rec
        )
    if kind == "consent":
        return "staging.consent_events", dict(
            channel="email", identifier="dan@x.se", state="revoked", reason="unsubscribed", event_time=at, **rec
        )
    if kind == "bounce":
        return "staging.email_activity", dict(
            activity_id="x-b", action="bounce", event_time=at, campaign_id="c1", email="dan@x.se", **rec
        )
    raise ValueError(kind)


@pytest.mark.parametrize(
    "kind, days, redone",
    [
        # a windowed trait counts the event at the first cutoff and not at the next: the customer is redone
        *((kind, days, 1) for kind, days in [("open", 30), ("open", 90), ("click", 30), ("click", 90)]),
        ("web_session", 30, 1),
        ("add_to_cart", 30, 1),
        # orders, messages, consent signals, bounces, logins (and web sessions at 90 days) count on whichever
        # side of the cutoff alone: one that crosses a window's start changes no row
        *((kind, days, 0) for kind, days in [("order", 30), ("order", 90), ("sms", 30), ("consent", 90)]),
        ("bounce", 30, 0),
        ("login", 30, 0),
        ("web_session", 90, 0),
    ],
)
def test_a_time_crossing_a_window_start_redoes_its_customer_only_where_a_trait_counts_it(
    kind, days, redone, small_world
):
    """An event whose time leaves a trait window overnight redoes its customer when a windowed trait counts that
    kind of event (the tables still equal a whole build's: Twins.build compares), and nobody otherwise."""
    t = Twins(world_db)
    table, row = _event(kind, days)
    t.insert(table, [row])
    t.build(_DAY)
    night = t.build(_NEXT_DAY)
    assert (night.mode, night.customers_rebuilt, night.timeline_records_rebuilt) == ("incremental", redone, 0)


def test_a_consent_change_alone_keeps_the_profile_but_not_the_junk_check(small_world):
    """A customer whose records did not change keeps their survived attributes and identifiers,
    but contactability still looks at every record: an address flagged junk on one is not contactable."""
    t = Twins(world_db)
    t.insert(
        "identity.customer_map",
        [
            dict(source="crm", source_record_id="900", customer_id="C9"),
            dict(source="esp", source_record_id="leid-9", customer_id="C9"),
        ],
    )
    t.insert(
        "staging.identity_records",
        [
            dict(
                source="crm",
                source_record_id="900",
                record_time=ts("2025-01-01 10:00"),
                email="dup@x.se",
                phone="+46709999999",
                first_name="Nina",
            ),
            dict(
                source="esp",
                source_record_id="leid-9",
                record_time=ts("2025-01-01 11:00"),
                email="dup@x.se",
                email_is_junk=True,
                phone="+46709999999",
                phone_is_junk=True,
            ),
        ],
    )
    t.build(AS_OF)
    t.insert(
        "staging.consent_events",
        [
            dict(
                source="crm",
                source_record_id="900",
                channel="email",
                identifier="dup@x.se",
                state="granted",
                reason="crm_opt_in",
                event_time=ts("2025-01-10 12:00"),
            ),
            dict(
                source="crm",
                source_record_id="900",
                channel="sms",
                identifier="+46709999999",
                state="granted",
                reason="crm_opt_in",
                event_time=ts("2025-01-10 12:00"),
            ),
        ],
    )
    night = t.build(AS_OF)
    assert night.mode == "incremental" and night.customers_rebuilt == 1
    row = t.inc.execute(
        "SELECT email, email_consent, email_contactable, sms_consent, sms_contactable "
        "FROM golden.customers WHERE customer_id = 'C9'"
    ).fetchall()
    assert row == [("dup@x.se", "granted", False, "granted", False)]


def test_a_night_settles_again_only_the_ledger_rows_whose_signals_changed(built):
    """The consent ledger is not rebuilt whole every night: a row is a function of its identifier's
    signals before the cutoff alone, so only the identifiers with a new, changed or gone signal, or
    one the cutoff moved over, are settled again (golden._identifier_state keeps their hashes)."""

    def ledger() -> dict[str, tuple]:
        return {
            identifier: (consent, blocked, reason)
            for identifier, consent, blocked, reason in built.execute(
                "SELECT identifier, consent, blocked, reason FROM golden.identifier_consent"
            ).fetchall()
        }

    # A mark on the kept row of an address nothing happens to tonight: settling it again would drop it.
    built.execute("UPDATE golden.identifier_consent SET reason = 'kept' WHERE identifier = 'bo@x.se'")
    # An unsubscribe from a record no customer carries, and a day later: Cecilia's CRM opt-out of
    # 2025-01-11 now falls before the cutoff.
    insert(
        built,
        "staging.consent_events",
        [consent("esp", "leid-none", "email", "anna@crm.se", "revoked", "unsubscribed", "2025-01-10 18:00")],
    )
    # Every signal about Anna's new address gone: its row goes too.
    built.execute("DELETE FROM staging.consent_events WHERE identifier = 'anna.new@mail.se'")
    got = build_golden(built, AS_OF + timedelta(days=1), tz="UTC")
    assert got.mode == "incremental"
    rows = ledger()
    assert rows["bo@x.se"] == ("granted", False, "kept")
    assert rows["anna@crm.se"] == ("revoked", True, "unsubscribed")
    assert rows["cecilia@mail.se"] == ("revoked", True, "crm_opt_out")
    assert rows["+46701111111"] == ("granted", False, "sms_start")
    assert "anna.new@mail.se" not in rows
    night = contents(built)
    build_golden(built, AS_OF + timedelta(days=1), tz="UTC", full_refresh=True)
    assert ledger() == rows | {"bo@x.se": ("granted", False, "accepts_marketing")}
    whole = contents(built)
    assert night["golden.customers"] == whole["golden.customers"]


def test_a_record_mapped_to_two_customers_is_a_whole_build(built):
    built.execute("INSERT INTO identity.customer_map VALUES ('crm', '401', 'C1')")  # against the contract
    got = build_golden(built, AS_OF, tz="UTC")
    assert (got.mode, got.reason) == ("full", "a changed record maps to several customers")
    assert build_golden(built, AS_OF, tz="UTC").mode == "incremental"  # unchanged since: nothing to redo


def test_the_timeline_check_compares_the_whole_timeline_after_an_incremental_build(built):
    """The check does not trust the build: events given to the wrong customers are found."""
    built.execute(
        "INSERT INTO staging.email_activity (activity_id, source, source_record_id, action, event_time) "
        "VALUES ('a9', 'esp', 'leid-c', 'open', TIMESTAMP '2025-01-09 08:00')"
    )
    assert build_golden(built, AS_OF, tz="UTC").mode == "incremental"
    assert check_timeline_complete(built).passed
    built.execute("""UPDATE golden.customer_timeline
                     SET customer_id = CASE customer_id WHEN 'C1' THEN 'C3' ELSE 'C1' END
                     WHERE event_ref IN ('a1', 'a9')""")
    outcome = check_timeline_complete(built)
    assert not outcome.passed
    assert outcome.metadata == {"email_activity_missing": 2, "email_activity_unexpected": 2}


# ------------------------------------------------------------------ a whole build's kept fingerprints


def _fingerprints_of_the_view(con: duckdb.DuckDBPyConnection) -> tuple[list, list]:
    """Columns (name, type) and rows of create_golden_fingerprints over the tables as they are now."""
    from cdp_pipeline.lib.golden.inputs import resolve_inputs

    incremental.fingerprint_records(con, resolve_inputs(con))
    columns = [r[:2] for r in con.execute("DESCRIBE temp._golden_fingerprints").fetchall()]
    return columns, con.execute("SELECT * FROM temp._golden_fingerprints ORDER BY ALL").fetchall()


@pytest.mark.parametrize(
    ("change", "from_records"),
    [
        ("none", True),
        ("a mapped record without an identity record", True),
        ("an identity record of no mapped record", False),
        ("a record mapped twice", False),
        ("a record with two identity records", False),
        ("a record without a source", False),
    ],
)
def test_a_whole_build_keeps_the_fingerprints_of_every_mapped_record(change, from_records, monkeypatch):
    """A whole build writes golden._record_state from its records when they hold one row per record
    (incremental.one_row_per_record), else from the fingerprint view: the same columns and rows."""
    con = world_db()
    if change == "a mapped record without an identity record":
        insert(con, "identity.customer_map", [dict(source="crm", source_record_id="no-record", customer_id="C1")])
    elif change == "an identity record of no mapped record":
        insert(con, "staging.identity_records", [dict(source="crm", source_record_id="unmapped", email="x@y.se")])
    elif change == "a record mapped twice":
        con.execute(
            "INSERT INTO identity.customer_map BY NAME SELECT * REPLACE ('C9' AS customer_id) FROM "
            "identity.customer_map WHERE source = 'crm' AND source_record_id = '100'"
        )
    elif change == "a record with two identity records":
        con.execute(
            "INSERT INTO staging.identity_records BY NAME SELECT * REPLACE ('other@mail.se' AS email) FROM "
            "staging.identity_records WHERE source = 'crm' AND source_record_id = '100'"
        )
    elif change == "a record without a source":
        # (NULL = NULL finds no identity record, while the view's record key, hash(NULL, id), finds it)
        insert(con, "identity.customer_map", [dict(source=None, source_record_id="nosrc", customer_id="C1")])
        insert(con, "staging.identity_records", [dict(source=None, source_record_id="nosrc", email="n@s.se")])
    chosen = []
    one_row = incremental.one_row_per_record
    monkeypatch.setattr(incremental, "one_row_per_record", lambda *a: chosen.append(one_row(*a)) or chosen[-1])
    build_golden(con, AS_OF, tz="UTC", full_refresh=True)
    assert chosen == [from_records]
    kept_columns = [r[:2] for r in con.execute("DESCRIBE golden._record_state").fetchall()]
    kept = con.execute("SELECT * FROM golden._record_state ORDER BY ALL").fetchall()
    assert (kept_columns, kept) == _fingerprints_of_the_view(con)
    assert (
        len(kept)
        == con.execute("SELECT count(DISTINCT (source, source_record_id)) FROM identity.customer_map").fetchone()[0]
    )


def test_the_code_version_follows_the_name_tables_the_unswapped_name_rule_reads(monkeypatch):
    """A change of the first-name tables (a new name_variants.yaml or Faker pin) rebuilds golden whole: the
    customers an incremental build keeps were judged swapped or not by the old tables."""
    from cdp_pipeline.lib.golden import incremental, survivorship

    config = survivorship.load_survivorship_config()
    assert survivorship.uses_unswapped_name(config)
    before = incremental.code_version(config, {})
    monkeypatch.setattr(survivorship, "name_tables_fingerprint", lambda config_dir=None: "other-tables")
    assert incremental.code_version(config, {}) != before
