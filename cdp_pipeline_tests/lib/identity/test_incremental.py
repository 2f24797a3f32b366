"""Issue 8, point 3, for the identity stage: a night that scores only changed records gives
the same identity tables as a night that rescores every pair, and the model is kept between
nights until it is due for retraining."""

import datetime as dt
import random
import shutil

import duckdb
import pytest

from cdp_pipeline.lib.identity import resolve_identities
from cdp_pipeline_tests.lib.identity.synthetic import build_people, write_records

# identity table -> columns that hold run ids or wall-clock times
TABLES = {
    "customer_map": ("run_id", "resolved_at", "customer_created_at"),
    "links": (),
    "rejected_links": (),
    "clusters": ("created_at",),
    "excluded_identifiers": (),
    # the records' numbers, which a rebuild gives afresh (record_numbers.py; pinned in
    # test_kept_scores_carry_the_kept_numbers_of_their_records)
    "scored_pairs": ("rid_l", "rid_r"),
    "scored_records": ("rid",),
    "model": ("trained_at",),
    "model_term_frequencies": (),
    "graph_records": (),
    "graph_edges": (),
    "graph_meta": (),
}
DAY1, DAY2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def _nights(seed: int = 7):
    """Night 1: 95 % of a synthetic population. Night 2: everyone, with five emails changed
    and two records gone — about 8 % of the records new, changed or removed."""
    records = build_people(300, seed)
    rng = random.Random(1)
    held = set(rng.sample(range(len(records)), len(records) // 20))
    night1 = [r for i, r in enumerate(records) if i not in held]
    night2 = [dict(r) for r in records]
    changed = [i for i in rng.sample(range(len(night2)), 12) if night2[i].get("email")][:5]
    for i in changed:
        night2[i]["email"] = "new." + night2[i]["email"]
    gone = {night2[3]["source_record_id"], night2[10]["source_record_id"]}
    night2 = [r for r in night2 if r["source_record_id"] not in gone]
    return night1, night2, len(held), len(changed)


def _tables(con) -> dict:
    out = {}
    for table, volatile in TABLES.items():
        exclude = f" EXCLUDE ({', '.join(volatile)})" if volatile else ""
        out[table] = con.execute(f"SELECT *{exclude} FROM identity.{table} ORDER BY ALL").fetchall()
    return out


def _resolve(path, records, config, day, **kw):
    con = duckdb.connect(str(path))
    try:
        write_records(con, records)
        result = resolve_identities(
            con, run_id=f"run-{day}-{kw.get('full_refresh', False)}", config=config, as_of=day, **kw
        )
        return result, _tables(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory):
    from cdp_pipeline.lib.identity.config import PACKAGED_CONFIG_PATH, load_identity_config

    config = load_identity_config(PACKAGED_CONFIG_PATH, match_threshold=0.99).with_splink(
        u_max_pairs=5e4, em_max_pairs=None
    )
    root = tmp_path_factory.mktemp("incremental")
    night1, night2, new, changed = _nights()
    first, _ = _resolve(root / "incremental.duckdb", night1, config, DAY1)
    shutil.copy(root / "incremental.duckdb", root / "full.duckdb")
    shutil.copy(root / "incremental.duckdb", root / "night1.duckdb")
    incremental = _resolve(root / "incremental.duckdb", night2, config, DAY2)
    full = _resolve(root / "full.duckdb", night2, config, DAY2, full_refresh=True)
    return {
        "config": config,
        "root": root,
        "first": first,
        "incremental": incremental,
        "full": full,
        "night2": night2,
        "new": new,
        "changed": changed,
    }


def test_first_night_trains_and_scores_everything(two_nights):
    model = two_nights["first"].model
    assert model.retrained and model.retrain_reason == "no stored model"
    assert model.mode == "full" and model.records_rescored == model.records_in_model


def test_incremental_night_scores_only_changed_records_with_the_kept_model(two_nights):
    result, tables = two_nights["incremental"]
    model = result.model
    assert (model.mode, model.retrained) == ("incremental", False)
    assert any(note.startswith("model reused") for note in model.training_notes)
    # new and changed named records only: a small share of the records in the model
    assert 0 < model.records_rescored <= two_nights["new"] + two_nights["changed"]
    assert model.records_rescored < model.records_in_model / 5
    assert model.pairs_kept > 0
    assert len(tables["model"]) == 1


def test_incremental_night_reclusters_only_the_affected_records(two_nights):
    inc_result, _ = two_nights["incremental"]
    full_result, _ = two_nights["full"]
    assert inc_result.graph["clustered"] == "affected records"
    assert 0 < inc_result.graph["affected_records"] < inc_result.records / 2
    assert full_result.graph["clustered"] == "all records"


def test_incremental_night_gives_the_full_rescoring_tables_and_ids(two_nights):
    inc_result, inc = two_nights["incremental"]
    full_result, full = two_nights["full"]
    assert full_result.model.mode == "full" and not full_result.model.retrained
    assert full_result.model.records_rescored == full_result.model.records_in_model
    for table in TABLES:
        assert inc[table] == full[table], table
    assert inc["customer_map"] and inc["links"]
    assert inc_result.id_changes == full_result.id_changes


def _map_rows(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT source, source_record_id, customer_id, run_id FROM identity.customer_map").fetchall()
        return {(source, record): (customer, run) for source, record, customer, run in rows}
    finally:
        con.close()


def test_an_incremental_night_rewrites_only_the_customer_map_rows_that_changed(two_nights):
    """A customer who gains a record keeps its other rows as they were (written by night 1):
    its record count is identity.clusters.records, not a column of every row."""
    before = _map_rows(two_nights["root"] / "night1.duckdb")
    after = _map_rows(two_nights["root"] / "incremental.duckdb")
    night2 = f"run-{DAY2}-False"
    rewritten = {key for key, (_, run) in after.items() if run == night2}
    changed = {key for key, (customer, _) in after.items() if key not in before or before[key][0] != customer}
    assert changed and rewritten == changed
    # customers of night 1 who gained a record tonight: their other rows are night 1's
    gained = {after[key][0] for key in changed if key not in before} & {customer for customer, _ in before.values()}
    assert gained
    assert any(customer in gained and run != night2 for customer, run in after.values())
    con = duckdb.connect(str(two_nights["root"] / "incremental.duckdb"), read_only=True)
    try:
        assert "customer_records" not in {r[0] for r in con.execute("DESCRIBE identity.customer_map").fetchall()}
        assert (
            con.execute("""SELECT count(*) FROM identity.clusters c
                              FULL JOIN (SELECT customer_id, count(*) AS n FROM identity.customer_map GROUP BY ALL) m
                              USING (customer_id) WHERE c.records IS DISTINCT FROM m.n""").fetchall()[0][0]
            == 0
        )
    finally:
        con.close()


def test_the_same_input_again_scores_nothing(two_nights):
    result, tables = _resolve(
        two_nights["root"] / "incremental.duckdb", two_nights["night2"], two_nights["config"], DAY2
    )
    assert (result.model.mode, result.model.records_rescored) == ("incremental", 0)
    assert tables == two_nights["incremental"][1]
    assert result.id_changes["records_changed_id"] == 0


@pytest.mark.parametrize(
    "change, reason",
    [
        ("age", "days old"),
        ("config", "model settings or model code changed"),
        ("erasure", "people were erased"),
        ("every_night", "CDP_MODEL_RETRAIN_DAYS is 0"),
    ],
)
def test_the_model_is_retrained_when_due(two_nights, tmp_path, change, reason):
    path = tmp_path / "build.duckdb"
    shutil.copy(two_nights["root"] / "full.duckdb", path)
    config, day, kw = two_nights["config"], DAY2, {}
    if change == "age":
        day = DAY1 + dt.timedelta(days=7)
    elif change == "config":
        config = config.with_splink(match_threshold=0.995)
    elif change == "erasure":
        con = duckdb.connect(str(path))
        con.execute("CREATE SCHEMA IF NOT EXISTS audit")
        con.execute("CREATE TABLE audit.erasure_log (request_id VARCHAR)")
        con.execute("INSERT INTO audit.erasure_log VALUES ('r1')")
        con.close()
    else:
        kw["retrain_days"] = 0
    result, tables = _resolve(path, two_nights["night2"], config, day, **kw)
    assert result.model.retrained and reason in result.model.retrain_reason
    assert result.model.mode == "full"
    assert len(tables["model"]) == 1


def test_a_night_within_the_retrain_window_keeps_the_model(two_nights, tmp_path):
    path = tmp_path / "build.duckdb"
    shutil.copy(two_nights["root"] / "full.duckdb", path)
    result, _ = _resolve(path, two_nights["night2"], two_nights["config"], DAY1 + dt.timedelta(days=6))
    assert not result.model.retrained


def _bridge(records: list[dict]) -> dict:
    """A new CRM record holding one customer's loyalty card and another's email (with that
    person's first name, so the email's name guard lets it link): it joins the two. The two
    people have no conflicting birth dates (else the birth-date rule would refuse the bridge)."""
    from cdp_pipeline_tests.lib.identity.synthetic import record

    dates: dict = {}
    for r in records:
        if r.get("birth_date"):
            dates.setdefault(r.get("_person"), set()).add(r["birth_date"])
    cards = [r for r in records if r["source"] == "pos" and r.get("loyalty_card_id")]
    mails = [r for r in records if r["source"] == "crm" and r.get("email") and r.get("first_name_match")]
    card, mail = next(
        (c, m)
        for c in cards
        for m in mails
        if m["email"] != c.get("email")
        and m.get("loyalty_card_id") != c["loyalty_card_id"]
        and m.get("_person") != c.get("_person")
        and len(dates.get(c.get("_person"), set()) | dates.get(m.get("_person"), set())) <= 1
    )
    return record(
        "crm",
        "CRM-BRIDGE",
        None,
        first_name=mail["first_name_match"],
        last_name=mail.get("last_name_match"),
        email=mail["email"],
        loyalty_card_id=card["loyalty_card_id"],
    )


def test_a_bridging_record_merges_and_its_removal_splits_like_a_full_rebuild(two_nights, tmp_path):
    """Night 3 brings a record that joins two customers; night 4 takes it away again. Each
    night, re-clustering only the affected records gives the full rescoring's tables."""
    config, night2 = two_nights["config"], two_nights["night2"]
    inc, full = tmp_path / "inc.duckdb", tmp_path / "full.duckdb"
    shutil.copy(two_nights["root"] / "incremental.duckdb", inc)
    shutil.copy(two_nights["root"] / "incremental.duckdb", full)
    night3 = [*night2, _bridge(night2)]
    events = []
    for records, day in ((night3, DAY2 + dt.timedelta(days=1)), (night2, DAY2 + dt.timedelta(days=2))):
        a, a_tables = _resolve(inc, records, config, day)
        b, b_tables = _resolve(full, records, config, day, full_refresh=True)
        assert a.graph["clustered"] == "affected records"
        for table in TABLES:
            assert a_tables[table] == b_tables[table], (day, table)
        assert a.id_changes == b.id_changes
        events.append(a.id_changes["events"])
    # the bridge merged two customers into one, and without it they part again; nothing else moved
    assert events == [
        {"created": 0, "merged": 1, "split": 0, "retired": 0},
        {"created": 0, "merged": 0, "split": 1, "retired": 0},
    ]


def _rare_name_pair_scored(tables) -> bool:
    """Whether night 3's customer and signup of a rare name are among the scored pairs."""
    return any({row[1], row[3]} == {"CRM-RARE", "ESP-RARE-0"} for row in tables["scored_pairs"])


def test_a_name_that_turns_common_is_rescored_like_a_full_rebuild(two_nights, tmp_path):
    """Night 3 brings a customer and a newsletter signup of a rare name, sharing nothing else:
    ``rare_full_name`` puts the pair up. Night 4 brings ten more signups of that name, which
    then is no longer rare, so a full rescoring no longer scores the pair: the incremental night
    must rescore the two unchanged records too (their hash holds the blocking key), or it would
    keep the pair's old score."""
    from cdp_pipeline_tests.lib.identity.synthetic import record

    config, night2 = two_nights["config"], two_nights["night2"]
    name = dict(first_name="hans henning", last_name="jacobi jackel")
    customer = record(
        "crm",
        "CRM-RARE",
        None,
        **name,
        street="fabriksgatan 45",
        postcode="74394",
        city="halmstad",
        birth_date=dt.date(1970, 3, 19),
    )
    signups = [record("esp", f"ESP-RARE-{i}", None, **name, email=f"hh{i}@example.com") for i in range(11)]
    inc, full = tmp_path / "inc.duckdb", tmp_path / "full.duckdb"
    shutil.copy(two_nights["root"] / "incremental.duckdb", inc)
    shutil.copy(two_nights["root"] / "incremental.duckdb", full)
    seen = []
    for records, day in (
        ([*night2, customer, signups[0]], DAY2 + dt.timedelta(days=1)),
        ([*night2, customer, *signups], DAY2 + dt.timedelta(days=2)),
    ):
        a, a_tables = _resolve(inc, records, config, day)
        b, b_tables = _resolve(full, records, config, day, full_refresh=True)
        assert a.model.mode == "incremental"
        for table in TABLES:
            assert a_tables[table] == b_tables[table], (day, table)
        seen.append(_rare_name_pair_scored(a_tables))
    assert seen == [True, False]


def _runs_row(path) -> tuple:
    con = duckdb.connect(str(path))
    try:
        return con.execute('SELECT * EXCLUDE (run_id, "at") FROM identity.runs ORDER BY "at" DESC LIMIT 1').fetchall()[
            0
        ]
    finally:
        con.close()


def test_a_night_with_nothing_new_keeps_every_table_and_writes_what_clustering_nothing_would(two_nights, monkeypatch):
    """The same input again skips edges, scoring and clustering; its tables, run row and ID
    figures are those of the same night run through the affected-records path."""
    import cdp_pipeline.lib.identity.resolve as resolve

    root = two_nights["root"]
    shutil.copy(root / "incremental.duckdb", root / "kept.duckdb")
    shutil.copy(root / "incremental.duckdb", root / "reclustered.duckdb")
    kept, kept_tables = _resolve(root / "kept.duckdb", two_nights["night2"], two_nights["config"], DAY2)
    with monkeypatch.context() as m:
        m.setattr(resolve, "source_unchanged", lambda *a: None)
        m.setattr(resolve, "unchanged_night", lambda *a: False)
        walked, walked_tables = _resolve(root / "reclustered.duckdb", two_nights["night2"], two_nights["config"], DAY2)
    assert kept.graph["clustered"] == "no records (nothing changed)"
    assert walked.graph["clustered"] == "affected records" and walked.graph["affected_records"] == 0
    assert kept_tables == walked_tables == two_nights["incremental"][1]
    assert _runs_row(root / "kept.duckdb") == _runs_row(root / "reclustered.duckdb")
    assert kept.id_changes == walked.id_changes
    assert (kept.customers, kept.links_by_type, kept.excluded_identifiers, kept.review) == (
        walked.customers,
        walked.links_by_type,
        walked.excluded_identifiers,
        walked.review,
    )
    assert kept.model.thresholds == walked.model.thresholds
    assert (kept.model.records_in_model, kept.model.edges, kept.model.pairs_kept) == (
        walked.model.records_in_model,
        walked.model.edges,
        walked.model.pairs_kept,
    )


def test_a_night_with_one_record_changed_or_a_new_review_decision_is_not_kept(two_nights, tmp_path):
    root = two_nights["root"]
    night = [dict(r) for r in two_nights["night2"]]
    night[0]["email"] = "changed." + (night[0].get("email") or "x@example.com")
    shutil.copy(root / "incremental.duckdb", tmp_path / "changed.duckdb")
    changed, _ = _resolve(tmp_path / "changed.duckdb", night, two_nights["config"], DAY2)
    assert changed.graph["clustered"] == "affected records" and changed.model.records_rescored >= 1

    a, b = two_nights["night2"][0], two_nights["night2"][1]
    review = tmp_path / "review.csv"
    review.write_text(
        "decision,source_a,record_a,source_b,record_b,note\n"
        f"cannot_link,{a['source']},{a['source_record_id']},{b['source']},{b['source_record_id']},test\n"
    )
    shutil.copy(root / "incremental.duckdb", tmp_path / "review.duckdb")
    reviewed, _ = _resolve(
        tmp_path / "review.duckdb", two_nights["night2"], two_nights["config"], DAY2, review_file=review
    )
    assert reviewed.graph["clustered"] == "affected records" and reviewed.review["cannot_link"] == 1
    # the same decision the next night: kept, and still matched to its two records
    again, _ = _resolve(
        tmp_path / "review.duckdb", two_nights["night2"], two_nights["config"], DAY2, review_file=review
    )
    assert again.graph["clustered"] == "no records (nothing changed)" and again.review == reviewed.review


def test_the_source_is_found_unchanged_only_when_it_holds_the_kept_records_each_once(two_nights, tmp_path):
    """``source_unchanged`` answers on the staging rows themselves: the kept records give their
    count; a changed column, a record gone, or a key repeated (which the numbered records would
    drop) give None, and a repeated key still leaves the night to the numbered records."""
    from cdp_pipeline.lib.identity.affected import inputs_hash, source_unchanged
    from cdp_pipeline.lib.identity.name_variants import load_name_variants
    from cdp_pipeline.lib.identity.review import read_review_file

    night2, config = two_nights["night2"], two_nights["config"]
    night_inputs = inputs_hash(list(read_review_file(None)), load_name_variants())
    shutil.copy(two_nights["root"] / "incremental.duckdb", tmp_path / "source.duckdb")
    con = duckdb.connect(str(tmp_path / "source.duckdb"))
    try:
        answers = []
        for records in (
            night2,
            [{**night2[0], "last_name": "Changed"}, *night2[1:]],
            night2[1:],
            [*night2[:-1], {**night2[0]}],  # as many rows as kept, one key twice
        ):
            write_records(con, records)
            answers.append(source_unchanged(con, config, night_inputs, "staging.identity_records"))
        assert answers == [len(night2), None, None, None]
        assert source_unchanged(con, config, "other inputs", "staging.identity_records") is None
    finally:
        con.close()
    repeated, _ = _resolve(tmp_path / "source.duckdb", [*night2, {**night2[0]}], config, DAY2)
    assert repeated.graph["clustered"] == "no records (nothing changed)" and repeated.records == len(night2)


def test_a_night_with_nothing_new_but_the_model_due_retrains(two_nights, tmp_path):
    shutil.copy(two_nights["root"] / "incremental.duckdb", tmp_path / "due.duckdb")
    later = DAY2 + dt.timedelta(days=30)
    result, _ = _resolve(tmp_path / "due.duckdb", two_nights["night2"], two_nights["config"], later)
    assert result.model.retrained and result.graph["clustered"] != "no records (nothing changed)"


def _household_pairs(con) -> set[tuple]:
    from cdp_pipeline.lib.identity.records import RECORDS
    from cdp_pipeline.lib.identity.stitching import TWO_PEOPLE

    rows = con.execute(f"""SELECT l.source, l.source_record_id, r.source, r.source_record_id FROM {TWO_PEOPLE} p
                           JOIN {RECORDS} l ON l.rid = p.rid_l JOIN {RECORDS} r ON r.rid = p.rid_r""").fetchall()
    return set(rows)


def test_household_cannot_links_are_kept_for_unchanged_records_and_recomputed_for_changed_ones(
    two_nights, tmp_path, monkeypatch
):
    """Night 3: one member of a household pair takes the other's first name (one person now),
    and a new record moves in beside an unchanged one (two people now). The incremental night
    recomputes the pairs of those records alone, keeps last night's other household pairs from
    identity.graph_edges under their reason, and ends where a full rescoring does."""
    import cdp_pipeline.lib.identity.resolve as resolve
    from cdp_pipeline_tests.lib.identity.synthetic import record

    config, night2 = two_nights["config"], two_nights["night2"]
    con = duckdb.connect(str(two_nights["root"] / "incremental.duckdb"), read_only=True)
    kept_before = con.execute("""SELECT source_l, record_l, source_r, record_r FROM identity.graph_edges
                                 WHERE link_type = 'cannot_link' AND note = 'cannot_link:household'
                                 ORDER BY ALL""").fetchall()
    con.close()
    assert len(kept_before) >= 2
    dissolved = kept_before[0]
    by_key = {(r["source"], r["source_record_id"]): i for i, r in enumerate(night2)}
    night3 = [dict(r) for r in night2]
    left, right = night3[by_key[dissolved[:2]]], night3[by_key[dissolved[2:]]]
    right["first_name"], right["first_name_match"] = left["first_name"], left["first_name_match"]
    household = {tuple(k) for pair in kept_before for k in (pair[:2], pair[2:])}
    host = next(
        r
        for r in night3
        if r["source"] == "crm"
        and r.get("email")
        and r.get("street")
        and (r["source"], r["source_record_id"]) not in household
    )
    night3.append(
        record(
            "crm",
            "CRM-PARTNER",
            None,
            first_name="xenia",
            last_name=host["last_name_match"],
            street=host["street"],
            postcode=host["postcode"],
            city=host["city"],
            email="xenia.partner@example.se",
            phone="+46709999999",
        )
    )
    new_pair = tuple(sorted([(host["source"], host["source_record_id"]), ("crm", "CRM-PARTNER")]))

    seen = {}
    original = resolve.build_household_cannot_links

    def spy(con, model_input, **kw):
        out = original(con, model_input, **kw)
        seen[kw.get("recompute") is not None] = _household_pairs(con)
        return out

    monkeypatch.setattr(resolve, "build_household_cannot_links", spy)
    day = DAY2 + dt.timedelta(days=1)
    shutil.copy(two_nights["root"] / "incremental.duckdb", tmp_path / "inc.duckdb")
    shutil.copy(two_nights["root"] / "incremental.duckdb", tmp_path / "full.duckdb")
    inc, inc_tables = _resolve(tmp_path / "inc.duckdb", night3, config, day)
    full, full_tables = _resolve(tmp_path / "full.duckdb", night3, config, day, full_refresh=True)
    assert inc.model.mode == "incremental" and set(seen) == {True, False}
    pairs = {tuple(sorted([p[:2], p[2:]])) for p in seen[True]}
    assert seen[True] == seen[False]
    assert new_pair in pairs
    assert tuple(sorted([dissolved[:2], dissolved[2:]])) not in pairs
    # the pairs of records that did not change are last night's
    untouched = [p for p in kept_before if not {p[:2], p[2:]} & {dissolved[:2], dissolved[2:]}]
    assert untouched and {tuple(sorted([p[:2], p[2:]])) for p in untouched} <= pairs
    for table in TABLES:
        assert inc_tables[table] == full_tables[table], table
    con = duckdb.connect(str(tmp_path / "inc.duckdb"), read_only=True)
    reasons = con.execute("""SELECT source_l, record_l, source_r, record_r FROM identity.graph_edges
                             WHERE link_type = 'cannot_link' AND note = 'cannot_link:household'""").fetchall()
    con.close()
    assert {tuple(sorted([p[:2], p[2:]])) for p in reasons} == pairs


def test_a_night_where_only_columns_identity_never_reads_changed_keeps_every_table(two_nights, tmp_path):
    """A record's time (a web visitor's moves with each visit), country and quality flags are
    golden's, not identity's: changing them on every record changes no record for identity, and
    a full rescoring of the same input gives the tables kept."""
    night = [dict(r) for r in two_nights["night2"]]
    for i, r in enumerate(night):
        r["record_time"] = dt.datetime(2026, 3, 2, 9, 30) + dt.timedelta(minutes=i)
        r["country"] = "NO" if i % 3 == 0 else r["country"]
        r["dq_flags"] = ["late_arrival"] if i % 5 == 0 else r["dq_flags"]
    root = two_nights["root"]
    shutil.copy(root / "incremental.duckdb", tmp_path / "kept.duckdb")
    shutil.copy(root / "incremental.duckdb", tmp_path / "full.duckdb")
    kept, kept_tables = _resolve(tmp_path / "kept.duckdb", night, two_nights["config"], DAY2)
    _, full_tables = _resolve(tmp_path / "full.duckdb", night, two_nights["config"], DAY2, full_refresh=True)
    assert kept.graph["clustered"] == "no records (nothing changed)"
    assert kept_tables == two_nights["incremental"][1]
    assert full_tables == kept_tables


def test_a_column_identity_reads_only_through_a_cardinality_rule_is_hashed():
    from dataclasses import replace

    from cdp_pipeline.lib.identity.affected import RECORD_HASH, record_hashes
    from cdp_pipeline.lib.identity.config import CardinalityRule, load_identity_config
    from cdp_pipeline.lib.identity.records import build_records
    from cdp_pipeline_tests.lib.identity.synthetic import record

    config = load_identity_config()
    by_country = replace(
        config, cardinality_rules=(*config.cardinality_rules, CardinalityRule("countries", "country", 1))
    )
    con = duckdb.connect()
    hashes = {}
    for country in ("SE", "NO"):
        write_records(con, [record("crm", "1", first_name="anna", last_name="berg", country=country)])
        build_records(con)
        for name, cfg in (("packaged", config), ("by_country", by_country)):
            record_hashes(con, cfg)
            hashes[name, country] = con.execute(f"SELECT record_hash FROM {RECORD_HASH}").fetchall()[0][0]
    assert hashes["packaged", "SE"] == hashes["packaged", "NO"]
    assert hashes["by_country", "SE"] != hashes["by_country", "NO"]


def test_identity_defers_automatic_checkpoints_and_restores_the_threshold(tmp_path):
    """Splink's work tables fill the build database's write-ahead log; a checkpoint in the middle
    of the run cost more than the one when the step's connection closes. The threshold is back
    to what it was afterwards, also when the run fails."""
    from cdp_pipeline.lib.identity.resolve import _checkpoint_when_done

    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    con.execute("SET checkpoint_threshold = '8MiB'")
    before = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]
    inside = []

    @_checkpoint_when_done
    def failing_run(con, **kwargs):
        inside.append(con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0])
        raise RuntimeError("a failing run")

    with pytest.raises(RuntimeError):
        failing_run(con, run_id="x")
    assert inside[0].endswith("GiB") and float(inside[0].split()[0]) > 100
    assert con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0] == before
    con.close()


def _next_night(records: list[dict], night: int) -> list[dict]:
    """A quiet night after ``records``: three duplicates of existing people arrive under new keys,
    one record's e-mail and another's first name change, and one record is removed."""
    rng = random.Random(100 + night)
    out = [dict(r) for r in records]
    named = [i for i, r in enumerate(out) if r.get("first_name_match") and r.get("email")]
    for k, i in enumerate(rng.sample(named, 3)):
        twin = dict(out[i])
        twin["source_record_id"] = f"NIGHT{night}-{k}"
        out.append(twin)
    a, b, gone = rng.sample(named, 3)
    out[a]["email"] = f"moved{night}." + out[a]["email"]
    out[b]["first_name"] = out[b]["first_name_match"] = "zelda"
    gone_key = out[gone]["source_record_id"]
    return [r for r in out if r["source_record_id"] != gone_key]


def test_state_patched_over_several_quiet_nights_equals_a_rebuild_each_night(two_nights, tmp_path):
    """The kept state (graph, scores, identity tables) patched by incremental nights, one after
    another, equals after each night the state a rebuild of that night's records writes (every
    pair scored, every record clustered, the same kept model)."""
    config, records = two_nights["config"], two_nights["night2"]
    chained = tmp_path / "chained.duckdb"
    shutil.copy(two_nights["root"] / "incremental.duckdb", chained)
    for night in range(3, 6):
        records = _next_night(records, night)
        day = DAY2 + dt.timedelta(days=night - 2)
        rebuilt = tmp_path / f"rebuilt{night}.duckdb"
        shutil.copy(chained, rebuilt)
        inc, inc_tables = _resolve(chained, records, config, day)
        full, full_tables = _resolve(rebuilt, records, config, day, full_refresh=True)
        assert inc.model.mode == "incremental" and inc.graph["clustered"] == "affected records", night
        assert 0 < inc.model.records_rescored < inc.model.records_in_model / 5, night
        for table in TABLES:
            assert inc_tables[table] == full_tables[table], (night, table)
        assert inc.id_changes == full.id_changes, night


def _numbers(path) -> tuple[list, list]:
    """identity.record_numbers by key, and the kept scores' numbers that differ from their records'."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        numbers = con.execute(
            "SELECT source, source_record_id, rid FROM identity.record_numbers ORDER BY ALL"
        ).fetchall()
        stray = con.execute("""
            SELECT 'record', s.source, s.source_record_id FROM identity.scored_records s
            LEFT JOIN identity.record_numbers n USING (source, source_record_id) WHERE s.rid IS DISTINCT FROM n.rid
            UNION ALL
            SELECT 'pair', p.source_l, p.record_l FROM identity.scored_pairs p
            LEFT JOIN identity.record_numbers l ON l.source = p.source_l AND l.source_record_id = p.record_l
            LEFT JOIN identity.record_numbers r ON r.source = p.source_r AND r.source_record_id = p.record_r
            WHERE p.rid_l IS DISTINCT FROM l.rid OR p.rid_r IS DISTINCT FROM r.rid""").fetchall()
        return numbers, stray
    finally:
        con.close()


def test_kept_scores_carry_the_kept_numbers_of_their_records(two_nights, tmp_path):
    """Over quiet nights (records new, changed and removed) every record keeps its number while its
    key stays, the numbers follow the keys' order, a new key gets one no record had the night
    before, and the kept scores carry their records' numbers (what the next night reads them by)."""
    config, records = two_nights["config"], two_nights["night2"]
    chained = tmp_path / "chained.duckdb"
    shutil.copy(two_nights["root"] / "incremental.duckdb", chained)
    before, stray = _numbers(chained)
    assert stray == [] and len(before) == len(records)
    for night in (3, 4):
        records = _next_night(records, night)
        result, _ = _resolve(chained, records, config, DAY2 + dt.timedelta(days=night - 2))
        assert result.model.mode == "incremental", night
        after, stray = _numbers(chained)
        assert stray == [], night
        assert [(s, k) for s, k, _ in after] == sorted((r["source"], r["source_record_id"]) for r in records)
        kept = {(s, k): rid for s, k, rid in before}
        assert all(kept[(s, k)] == rid for s, k, rid in after if (s, k) in kept), night
        new = [rid for s, k, rid in after if (s, k) not in kept]
        assert len(new) == 3 and not set(new) & set(kept.values()), night
        by_key = [rid for _, _, rid in sorted(after, key=lambda row: (row[0], row[1]))]
        assert by_key == sorted(by_key) and len(set(by_key)) == len(by_key), night
        before = after


def test_a_key_that_reappears_and_an_identifier_that_turns_over_shared_give_the_rebuild(two_nights, tmp_path):
    """A record removed one night comes back the next under its key (a new number between its
    neighbours'), and an e-mail new on eight people's records turns over-shared (junk guard): the kept
    numbers give the tables and IDs of a rebuild of each night."""
    config, night2 = two_nights["config"], two_nights["night2"]
    chained = tmp_path / "chained.duckdb"
    shutil.copy(two_nights["root"] / "incremental.duckdb", chained)
    gone = night2[40]["source_record_id"]
    night3 = [r for r in night2 if r["source_record_id"] != gone]
    night4 = [dict(r) for r in night2]
    named: dict[str, dict] = {}
    for r in night4:
        if r.get("first_name_match") and r["source_record_id"] != gone:
            named.setdefault(r["first_name_match"], r)
    for r in list(named.values())[:8]:  # eight people on one address: over the limit of six
        r["email"] = "info@shop.example"
    for night, records in ((3, night3), (4, night4)):
        day = DAY2 + dt.timedelta(days=night - 2)
        rebuilt = tmp_path / f"rebuilt{night}.duckdb"
        shutil.copy(chained, rebuilt)
        inc, inc_tables = _resolve(chained, records, config, day)
        full, full_tables = _resolve(rebuilt, records, config, day, full_refresh=True)
        assert inc.model.mode == "incremental", night
        for table in TABLES:
            assert inc_tables[table] == full_tables[table], (night, table)
        assert inc.id_changes == full.id_changes, night
    assert any(v == "info@shop.example" for _, v, *_ in inc_tables["excluded_identifiers"])
    numbers, stray = _numbers(chained)
    assert stray == [] and any(k == gone for _, k, _ in numbers)


def test_a_model_trained_on_spaced_numbers_is_the_one_trained_on_1_to_n(two_nights, tmp_path, monkeypatch):
    """A night that trains numbers its records with room between (record_numbers.py) and
    training reads them as 1..n: the u sample, which hashes the numbers, and so the model and
    every table are those of records numbered 1..n (as every night numbered them before)."""
    from cdp_pipeline.lib.identity import resolve as resolve_module

    config, records = two_nights["config"], two_nights["night2"]
    spaced, spaced_tables = _resolve(tmp_path / "spaced.duckdb", records, config, DAY2)
    monkeypatch.setattr(resolve_module, "_numbering", lambda *args: "dense")
    dense, dense_tables = _resolve(tmp_path / "dense.duckdb", records, config, DAY2)
    assert spaced.model.retrained and dense.model.retrained
    assert spaced_tables == dense_tables
    con = duckdb.connect(str(tmp_path / "spaced.duckdb"), read_only=True)
    try:
        largest, records_kept = con.execute("SELECT max(rid), count(*) FROM identity.record_numbers").fetchall()[0]
    finally:
        con.close()
    assert records_kept == len(records) and largest > 1000 * records_kept  # room between
