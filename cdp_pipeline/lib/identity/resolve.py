"""The whole identity run as one plain function: staging.identity_records in, identity.* out.

The Dagster asset is a thin wrapper around ``resolve_identities``; tests call it
directly on a temporary DuckDB.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, replace
from functools import wraps
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.progress import report_phase
from cdp_pipeline.lib.common.warehouse import transaction
from cdp_pipeline.lib.identity.affected import (
    AFFECTED,
    GRAPH_EDGES,
    TOUCHED,
    affected_records,
    graph_built_from,
    inputs_hash,
    keyed_edges,
    record_hashes,
    source_unchanged,
    sync_rows,
    unchanged_night,
    write_graph_state,
)
from cdp_pipeline.lib.identity.cardinality import split_components
from cdp_pipeline.lib.identity.config import IdentityConfig, load_identity_config
from cdp_pipeline.lib.identity.graph import connected_components
from cdp_pipeline.lib.identity.junk_guard import EXCLUDED, USABLE, find_excluded_identifiers
from cdp_pipeline.lib.identity.line_type import FIXED_LINES
from cdp_pipeline.lib.identity.model_store import (
    SCORED_PAIRS,
    SCORED_RECORDS,
    STATE_TABLES,
    StoredModel,
    load_model,
    retrain_reason,
    table_exists_temp,
    write_state,
)
from cdp_pipeline.lib.identity.name_keys import write_first_name_table
from cdp_pipeline.lib.identity.name_variants import NameVariants, load_name_variants, name_tables_hash
from cdp_pipeline.lib.identity.persistent_ids import assign_customer_ids, table_exists
from cdp_pipeline.lib.identity.record_numbers import numbers_kept, write_record_numbers
from cdp_pipeline.lib.identity.records import RECORDS, build_identifiers, build_records, number_record_keys
from cdp_pipeline.lib.identity.review import REVIEW_FILE_NAME, load_review_pairs, read_review_file
from cdp_pipeline.lib.identity.splink_model import SPLINK_INPUT, ModelRun, train_and_predict
from cdp_pipeline.lib.identity.stitching import (
    DETERMINISTIC_EDGES,
    TWO_ACCOUNTS,
    TWO_PEOPLE,
    build_account_cannot_links,
    build_deterministic_edges,
    build_household_cannot_links,
)
from cdp_pipeline.lib.identity.storage import replace_table
from cdp_pipeline.lib.identity.thresholds import Thresholds

IDENTITY_TABLES = (
    "customer_map",
    "links",
    "rejected_links",
    "clusters",
    "excluded_identifiers",
    "id_history",
    "runs",
)


@dataclass
class IdentityResult:
    run_id: str
    records: int = 0
    customers: int = 0
    links_by_type: dict[str, int] = field(default_factory=dict)
    excluded_identifiers: int = 0
    excluded_by_reason: dict[str, int] = field(default_factory=dict)
    review: dict = field(default_factory=dict)
    splitting: dict = field(default_factory=dict)
    id_changes: dict = field(default_factory=dict)
    model: ModelRun | None = None
    graph_rounds: int = 0
    graph: dict = field(default_factory=dict)

    def summary(self) -> dict:
        out = asdict(self)
        out.pop("model")
        if self.model:
            out["model"] = {
                "records_in_model": self.model.records_in_model,
                "edges": self.model.edges,
                "model_path": str(self.model.model_path) if self.model.model_path else None,
                "charts": {k: str(v) for k, v in self.model.charts.items()},
                "training_notes": self.model.training_notes,
                "probability_two_random_records_match": self.model.probability_two_random_records_match,
                "scoring": self.model.mode,
                "retrained": self.model.retrained,
                "retrain_reason": self.model.retrain_reason,
                "records_rescored": self.model.records_rescored,
                "pairs_kept": self.model.pairs_kept,
                "thresholds": self.model.thresholds.as_metadata() if self.model.thresholds else None,
            }
        return out


def _checkpoint_when_done(fn):
    """No automatic checkpoint while identity runs: Splink's work tables go through the build
    database's write-ahead log, and DuckDB then checkpointed in the middle of the run (when a
    large temp table was created), which at 100,000 customers cost about 1.3 of a quiet night's
    10 CPU seconds; the checkpoint when the step's connection closes (or the next automatic one
    after) writes the same data for a fraction of that."""

    @wraps(fn)
    def wrapper(con: duckdb.DuckDBPyConnection, **kwargs):
        threshold = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]
        con.execute("SET checkpoint_threshold = '1TB'")
        try:
            return fn(con, **kwargs)
        finally:
            con.execute(f"SET checkpoint_threshold = '{threshold}'")  # as DuckDB shows it: 16.0 MiB by default

    return wrapper


@_checkpoint_when_done
def resolve_identities(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    config: IdentityConfig | None = None,
    review_file: Path | None = None,
    reports_dir: Path | None = None,
    source_table: str = "staging.identity_records",
    run_at: dt.datetime | None = None,
    full_refresh: bool = False,
    as_of: dt.date | None = None,
    retrain_days: int = 7,
    name_variants: NameVariants | None = None,
    engine_settings=None,
) -> IdentityResult:
    """Resolve ``source_table`` into customers and write the ``identity`` tables.

    ``review_file``: the review decisions CSV (none when ``None``); ``reports_dir``: where the
    model JSON and charts go (none written when ``None``). ``default_paths(settings)`` gives the
    settings' locations. ``config``: ``identity.yaml`` (the packaged one when ``None``). The
    Splink model is kept between runs and retrained every ``retrain_days`` days of data
    (``as_of``: the data's date); a run scores only records whose model input changed unless
    ``full_refresh`` (``model_store``, ``splink_model``).
    ``name_variants``: nicknames and short forms (``load_name_variants``; the packaged table when
    ``None``). ``engine_settings``: the settings naming where Splink trains and scores
    (``engine``, and Spark's ``spark_*``); in process (DuckDB) when ``None``.
    Stitching is recomputed over every record (set-based SQL), a household's cannot-links over
    the changed records (``_household_cannot_links``), and the graph, splits and IDs over the
    records whose cluster can have changed (``affected.py``): equal to a full rebuild by
    construction.
    """
    config = config or load_identity_config()
    run_at = (run_at or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)
    result = IdentityResult(run_id=run_id)
    con.execute("CREATE SCHEMA IF NOT EXISTS identity")

    name_variants = name_variants or load_name_variants()
    # the night's name tables are part of the kept model's and graph's hashes (``IdentityConfig.name_tables``)
    config = replace(config, name_tables=name_tables_hash(name_variants))
    review_read = read_review_file(review_file)
    night_inputs = inputs_hash(list(review_read), name_variants)
    # A night with nothing new for identity is found on the source itself, before its records are
    # numbered and copied (affected.source_unchanged); a source repeating a key is decided below.
    stored = None
    if not full_refresh and (kept := source_unchanged(con, config, night_inputs, source_table)) is not None:
        stored = _unchanged_inputs(con, config, night_inputs, as_of, retrain_days, engine_settings, same_records=True)
    if stored:
        number_record_keys(con, source_table, rows=bool(review_read[0]))
        result.records = kept
    else:
        numbering = _numbering(con, config, full_refresh, as_of, retrain_days, engine_settings)
        result.records = build_records(con, source_table, numbering=numbering)
    review = load_review_pairs(con, review_file)
    result.review = {
        "file": str(review.path) if review.path else None,
        "must_link": review.must_link,
        "cannot_link": review.cannot_link,
        "unmatched": review.unmatched,
        "invalid": review.invalid,
    }
    if not stored:
        record_hashes(con, config)
        if not full_refresh:
            stored = _unchanged_inputs(con, config, night_inputs, as_of, retrain_days, engine_settings)
    if stored:
        # no edge, score or cluster can differ from the last run's: keep every table (affected.py)
        return _keep_unchanged_night(con, run_id, run_at, result, config, stored, reports_dir)
    write_first_name_table(con, f"SELECT DISTINCT nullif(trim(first_name_match), '') FROM {RECORDS}", name_variants)
    build_identifiers(con)
    result.excluded_identifiers = find_excluded_identifiers(con, config)
    build_deterministic_edges(con, config, name_variants)
    result.model = train_and_predict(
        con,
        config,
        reports_dir,
        full_refresh=full_refresh,
        as_of=as_of,
        retrain_days=retrain_days,
        engine_settings=engine_settings,
        name_roles_built=True,  # by build_deterministic_edges, from these records
    )

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_all_edges AS
        SELECT rid_l, rid_r, 'review' AS link_type, NULL::VARCHAR AS identifier_kind,
               NULL::VARCHAR AS identifier_value, NULL::DOUBLE AS match_probability,
               NULL::DOUBLE AS match_weight, NULL::VARCHAR AS match_weights, 3.0 AS strength, note
        FROM temp._id_review_pairs WHERE decision = 'must_link'
        UNION ALL
        -- a stitch on a phone ranks below the other stitches when a rule must cut one: a
        -- household shares a landline more than a mailbox (a child's order on its own e-mail and
        -- the family landline goes with the child, not with the same-named parent); one on a
        -- fixed line lower still (2.0, set below)
        SELECT least(rid_l, rid_r), greatest(rid_l, rid_r), 'deterministic', kind, value,
               NULL, NULL, NULL, CASE WHEN kind = 'phone' THEN 2.25 ELSE 2.5 END, NULL
        FROM {DETERMINISTIC_EDGES}
        UNION ALL
        SELECT rid_l, rid_r, 'probabilistic', NULL, NULL, match_probability, match_weight, match_weights,
               match_probability, NULL
        FROM temp._id_prob_edges
    """)
    # a reviewer's cannot-links and two members of one household (stitching.py), each under its
    # own reason in identity.rejected_links
    _household_cannot_links(con, config, night_inputs, result.model, full_refresh)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_cannot AS
                   SELECT rid_l, rid_r, min(reason) AS reason FROM (
                       SELECT rid_l, rid_r, 'cannot_link' AS reason
                       FROM temp._id_review_pairs WHERE decision = 'cannot_link'
                       UNION ALL SELECT rid_l, rid_r, 'cannot_link:household' FROM {TWO_PEOPLE})
                   GROUP BY rid_l, rid_r ORDER BY rid_l, rid_r""")
    # Only the records whose cluster can have changed are re-clustered (affected.py)
    keyed_edges(con, "temp._id_all_edges", "temp._id_cannot")
    scope = None if full_refresh else affected_records(con, config)
    result.graph = {
        "clustered": "all records" if scope is None else "affected records",
        **(scope or {"affected_records": result.records, "records": result.records}),
    }
    if scope is None:
        nodes, edges = f"SELECT rid FROM {RECORDS}", "SELECT rid_l, rid_r FROM temp._id_all_edges"
    else:
        nodes = f"SELECT rid FROM {AFFECTED}"
        edges = f"SELECT rid_l, rid_r FROM temp._id_all_edges WHERE rid_l IN (SELECT rid FROM {AFFECTED})"
    report_phase("identity", "clustering " + result.graph["clustered"])
    result.graph_rounds = connected_components(con, nodes, edges, "temp._id_components")
    # two people's CRM accounts: read from the clusters (stitching.py); a function of each
    # cluster's own records and edges, so not kept among the graph's edges
    build_account_cannot_links(con, "temp._id_prob_edges", "temp._id_components")
    # a stitch on a fixed line (a household's: line_type.py; typed there, in the clusters holding
    # two CRM accounts) is cut before one on a mobile: a parent's SMS number on an order with her
    # e-mail stays with her when the family landline joins the order to the same-named child
    # (Nordic set, seed 97)
    con.execute(f"""UPDATE temp._id_all_edges SET strength = 2.0
                    WHERE link_type = 'deterministic' AND identifier_kind = 'phone'
                      AND identifier_value IN (SELECT value FROM {FIXED_LINES})""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_cannot_all AS
                   SELECT rid_l, rid_r, min(reason) AS reason FROM (
                       SELECT * FROM temp._id_cannot
                       UNION ALL SELECT rid_l, rid_r, 'cannot_link:two_accounts' FROM {TWO_ACCOUNTS})
                   GROUP BY rid_l, rid_r ORDER BY rid_l, rid_r""")
    result.splitting = split_components(
        con,
        "temp._id_components",
        "temp._id_all_edges",
        "temp._id_cannot_all",
        config.cardinality_rules,
        "temp._id_final_components",
        "temp._id_cut",
        mailboxes=f"SELECT rid, value AS email FROM {USABLE} WHERE kind = 'email'",
        contacts=f"SELECT rid FROM {USABLE} WHERE kind IN ('email', 'phone')",
    )
    result.id_changes = assign_customer_ids(
        con, "temp._id_final_components", run_at, scope=None if scope is None else TOUCHED
    )
    if scope is not None:
        _add_untouched_records(con, result.id_changes)
    _write_tables(con, run_id, run_at, result, config, night_inputs, restricted=scope is not None)
    return result


def _household_cannot_links(
    con: duckdb.DuckDBPyConnection,
    config: IdentityConfig,
    night_inputs: str,
    model: ModelRun | None,
    full_refresh: bool,
) -> None:
    """Tonight's household cannot-links (``stitching.build_household_cannot_links``).

    A pair's answer reads its two records' model input alone, whose hash decides which records
    the model rescores (``temp._id_unchanged``: the rest). When only changed records were
    rescored and the kept graph is this code's from these review decisions and name variants,
    last run's household pairs between unchanged records (``identity.graph_edges``, by reason)
    are kept and only the pairs of changed records looked at. A pair that is also a reviewer's
    cannot-link was kept under the review's reason, so the records of tonight's review
    cannot-links are looked at again too, and so are the records whose first name has two words or
    more: the household pairs read it without a surname word at its end when a record on its
    e-mail or phone carries that word as its surname (``stitching.cut_surname_words``), which a
    night can change without changing the record."""
    if (
        full_refresh
        or model is None
        or model.mode != "incremental"
        or not table_exists_temp(con, "temp._id_unchanged")
        or not graph_built_from(con, config, night_inputs)
    ):
        build_household_cannot_links(con, SPLINK_INPUT)
        return
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_household_recompute AS
        SELECT unique_id AS rid FROM {SPLINK_INPUT} WHERE unique_id NOT IN (SELECT rid FROM temp._id_unchanged)
        UNION SELECT unnest([rid_l, rid_r]) FROM temp._id_review_pairs WHERE decision = 'cannot_link'
        -- a first name of two words or more may be read without its last word, by what the other
        -- records on its e-mail or phone carry (stitching.cut_surname_words): not the record's alone
        UNION SELECT unique_id FROM {SPLINK_INPUT} WHERE first_name_match LIKE '% %'
    """)
    kept = f"""
        SELECT least(l.rid, r.rid) AS rid_l, greatest(l.rid, r.rid) AS rid_r
        FROM {GRAPH_EDGES} e
        JOIN temp._id_unchanged l ON l.source = e.source_l AND l.source_record_id = e.record_l
        JOIN temp._id_unchanged r ON r.source = e.source_r AND r.source_record_id = e.record_r
        WHERE e.link_type = 'cannot_link' AND e.note = 'cannot_link:household'
          AND l.rid NOT IN (SELECT rid FROM temp._id_household_recompute)
          AND r.rid NOT IN (SELECT rid FROM temp._id_household_recompute)"""
    build_household_cannot_links(con, SPLINK_INPUT, recompute="SELECT rid FROM temp._id_household_recompute", kept=kept)


def _numbering(
    con: duckdb.DuckDBPyConnection,
    config: IdentityConfig,
    full_refresh: bool,
    as_of,
    retrain_days: int,
    engine_settings,
) -> str:
    """How tonight's records are numbered (``record_numbers.py``): their kept numbers on a night that
    scores with the kept model; afresh, with room between, on a full refresh or a night that trains
    the model (which reads them divided by the spacing: ``splink_model._training_input``); 1..n on
    Spark (it trains on the numbers as they are)."""
    if engine_settings is not None and getattr(engine_settings, "engine", None) == "spark":
        return "dense"
    if full_refresh or retrain_reason(con, load_model(con), config, as_of, retrain_days) is not None:
        return "spaced"
    return "kept"


def _unchanged_inputs(
    con: duckdb.DuckDBPyConnection,
    config: IdentityConfig,
    night_inputs: str,
    as_of,
    retrain_days: int,
    engine_settings,
    *,
    same_records: bool = False,
) -> StoredModel | None:
    """The stored model when tonight's input is last run's and the model is kept as it is (not
    due for retraining, its scores kept, scored in process); else None. ``same_records``: the
    records are known to be the kept graph's (``source_unchanged``), else compared here."""
    if engine_settings is not None and getattr(engine_settings, "engine", None) == "spark":
        return None  # Spark keeps no model: every night trains and scores
    if not all(table_exists(con, "identity", t) for t in (*STATE_TABLES, "runs")):
        return None
    if not (same_records or unchanged_night(con, config, night_inputs)):
        return None
    stored = load_model(con)
    if retrain_reason(con, stored, config, as_of, retrain_days) is not None:
        return None
    return stored


def _keep_unchanged_night(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    run_at: dt.datetime,
    result: IdentityResult,
    config: IdentityConfig,
    stored: StoredModel,
    reports_dir: Path | None,
) -> IdentityResult:
    """A night with nothing new for identity: the tables, graph and model state stay as the last
    run left them (what clustering no affected record would write); the night gets its
    ``identity.runs`` row and no ID events (tonight's anonymous visitors are their own step's:
    lib/identity/anonymous.py)."""
    report_phase("identity", "nothing changed since the last run: every table kept")
    one = lambda sql: con.execute(sql).fetchall()[0]  # noqa: E731
    present = one("SELECT count(*) FROM identity.customer_map")[0]
    result.graph = {"clustered": "no records (nothing changed)", "affected_records": 0, "records": result.records}
    result.splitting = {"clusters_split": 0, "links_cut": 0, "must_link_conflicts": 0, "attached_to_neither": 0}
    result.id_changes = {
        "previous_records": present,
        "records_still_present": present,
        "records_changed_id": 0,
        "id_change_share": 0.0,
        "events": dict.fromkeys(("created", "merged", "split", "retired"), 0),
    }
    # the scores are last run's, so are the thresholds calibrated on them
    t, ts, precision, sparse_links = one("""SELECT match_threshold, sparse_pair_threshold, sparse_expected_precision,
                                                   sparse_links FROM identity.runs ORDER BY "at" DESC LIMIT 1""")
    thresholds = None if t is None or ts is None else Thresholds(t, ts, precision, int(sparse_links or 0))
    model = ModelRun(mode="incremental", state_ready=False, thresholds=thresholds)
    model.records_in_model, model.pairs_kept = one(
        f"SELECT count(*), (SELECT count(*) FROM {SCORED_PAIRS}) FROM {SCORED_RECORDS}"
    )
    if thresholds is not None:
        model.edges = con.execute(
            f"SELECT count(*) FROM {SCORED_PAIRS} WHERE match_probability >= CASE WHEN sparse THEN $ts ELSE $t END",
            {"ts": ts, "t": t},
        ).fetchall()[0][0]
    model.probability_two_random_records_match = json.loads(stored.settings_json).get(
        "probability_two_random_records_match"
    )
    model.training_notes.append(
        f"model reused: trained {stored.trained_at:%Y-%m-%d %H:%M} on "
        f"{stored.records:,} records (data as of {stored.data_as_of})"
    )
    if reports_dir is not None and (Path(reports_dir) / "splink_model.json").exists():
        model.model_path = Path(reports_dir) / "splink_model.json"
        model.charts = {
            name: Path(reports_dir) / f"{name}.html"
            for name in ("match_weights", "m_u_parameters")
            if (Path(reports_dir) / f"{name}.html").exists()
        }
    result.model = model
    with transaction(con):
        con.execute("""CREATE TABLE IF NOT EXISTS identity.id_history (run_id VARCHAR, customer_id VARCHAR,
                       event VARCHAR, related_customer_id VARCHAR, "at" TIMESTAMP)""")
        con.execute("DELETE FROM identity.id_history WHERE run_id = $run_id", {"run_id": run_id})
        result.excluded_identifiers = one("SELECT count(*) FROM identity.excluded_identifiers")[0]
        _summarise(con, result)
        _write_run_row(con, run_id, run_at, result)
    return result


def _summarise(con: duckdb.DuckDBPyConnection, result: IdentityResult) -> None:
    result.customers = con.execute("SELECT count(*) FROM identity.clusters").fetchall()[0][0]
    result.links_by_type = dict(
        con.execute("SELECT link_type, count(*) FROM identity.links GROUP BY 1 ORDER BY 1").fetchall()
    )
    result.excluded_by_reason = dict(
        con.execute(
            "SELECT split_part(reason, '_', 1) || '_' || split_part(reason, '_', 2), count(*) "
            "FROM identity.excluded_identifiers GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )


def _add_untouched_records(con: duckdb.DuckDBPyConnection, id_changes: dict) -> None:
    """ID statistics over every record: the untouched customers' records are all still there,
    under the same IDs."""
    untouched = con.execute(f"""SELECT count(*) FROM identity.customer_map
                                WHERE customer_id NOT IN (SELECT customer_id FROM {TOUCHED})""").fetchall()[0][0]
    id_changes["previous_records"] += untouched
    id_changes["records_still_present"] += untouched
    present = id_changes["records_still_present"]
    id_changes["id_change_share"] = (id_changes["records_changed_id"] / present) if present else 0.0


def _write_tables(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    run_at: dt.datetime,
    result: IdentityResult,
    config: IdentityConfig,
    night_inputs: str,
    *,
    restricted: bool = False,
) -> None:
    """Write the identity tables and the run's row of ``identity.runs`` in one transaction
    (readers never see half a run).

    ``restricted``: only the affected records were re-clustered; the rows of the customers they
    touched are brought to tonight's, writing only those that differ (``affected.sync_rows``),
    and every other row is kept as it is."""
    params = {"run_id": run_id, "at": run_at}
    touched = f"(SELECT customer_id FROM {TOUCHED})"
    # tonight's rows of the re-clustered records (all records unless restricted)
    customer_map = """
        SELECT source, source_record_id, customer_id, created_at AS customer_created_at,
               $run_id::VARCHAR AS run_id, $at::TIMESTAMP AS resolved_at
        FROM temp._id_rid_customer"""
    links = """
        SELECT l.customer_id, l.source AS source_l, l.source_record_id AS record_l,
               r.source AS source_r, r.source_record_id AS record_r,
               e.link_type, e.identifier_kind, e.identifier_value,
               e.match_probability, e.match_weight, e.match_weights::JSON AS match_weights, e.note
        FROM temp._id_all_edges e
        JOIN temp._id_rid_customer l ON l.rid = e.rid_l
        JOIN temp._id_rid_customer r ON r.rid = e.rid_r
        WHERE l.customer_ord = r.customer_ord"""
    rejected_links = """
        SELECT l.customer_id AS customer_id_l, r.customer_id AS customer_id_r,
               l.source AS source_l, l.source_record_id AS record_l,
               r.source AS source_r, r.source_record_id AS record_r,
               e.link_type, e.identifier_kind, e.match_probability, c.reason
        FROM temp._id_cut c
        JOIN temp._id_all_edges e ON e.rid_l = least(c.rid_l, c.rid_r) AND e.rid_r = greatest(c.rid_l, c.rid_r)
        JOIN temp._id_rid_customer l ON l.rid = e.rid_l
        JOIN temp._id_rid_customer r ON r.rid = e.rid_r
        WHERE l.customer_id <> r.customer_id"""
    scope = "WHERE m.customer_id IN (SELECT customer_id FROM temp._id_assignment)" if restricted else ""
    clusters = f"""
        SELECT m.customer_id, count(*) AS records,
               list(DISTINCT m.source ORDER BY m.source) AS sources,
               coalesce(any_value(k.deterministic), 0) AS deterministic_links,
               coalesce(any_value(k.probabilistic), 0) AS probabilistic_links,
               coalesce(any_value(k.review), 0) AS review_links,
               any_value(m.customer_created_at) AS created_at
        FROM identity.customer_map m
        LEFT JOIN (SELECT customer_id,
                          count(*) FILTER (WHERE link_type = 'deterministic') AS deterministic,
                          count(*) FILTER (WHERE link_type = 'probabilistic') AS probabilistic,
                          count(*) FILTER (WHERE link_type = 'review') AS review
                   FROM identity.links m {scope} GROUP BY customer_id) k USING (customer_id)
        {scope}
        GROUP BY m.customer_id"""
    with transaction(con):
        # each record's customer, once for every table below; ``customer_ord`` numbers the
        # customers in customer_id order, so that links and clusters are sorted and grouped on an
        # integer rather than the ID string (the same order)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _id_rid_customer AS
            SELECT r.rid, r.source, r.source_record_id, a.customer_id, a.created_at, a.customer_ord
            FROM {RECORDS} r JOIN temp._id_final_components c USING (rid)
            JOIN (SELECT component, customer_id, created_at,
                         row_number() OVER (ORDER BY customer_id) AS customer_ord
                  FROM temp._id_assignment) a ON a.component = c.component
        """)
        if restricted:
            # The rows of the customers the affected records belonged to are brought to tonight's,
            # writing only those that differ (affected.sync_rows): a customer who gained a record
            # keeps its other rows, and the run that last wrote them (run_id, resolved_at).
            _drop_moved_columns(con)
            con.execute(f"CREATE OR REPLACE TEMP TABLE _id_customer_map_rows AS {customer_map}", params)
            sync_rows(
                con,
                "identity.customer_map",
                "SELECT * FROM temp._id_customer_map_rows",
                f"customer_id IN {touched}",
                ["source", "source_record_id", "customer_id", "customer_created_at"],
                "source, source_record_id",
            )
            sync_rows(
                con,
                "identity.links",
                links,
                f"customer_id IN {touched}",
                _LINK_COLUMNS,
                "customer_id, link_type, source_l, record_l, source_r, record_r, identifier_kind",
            )
            sync_rows(
                con,
                "identity.rejected_links",
                rejected_links,
                f"customer_id_l IN {touched} OR customer_id_r IN {touched}",
                _REJECTED_COLUMNS,
                "ALL",
            )
            sync_rows(
                con,
                "identity.clusters",
                clusters,
                f"customer_id IN {touched} OR customer_id IN (SELECT customer_id FROM temp._id_assignment)",
                _CLUSTER_COLUMNS,
                "customer_id",
            )
        else:
            # rids are numbered in record-key order (records.py): sorting on them orders the
            # rows by (source, source_record_id) as the strings would
            replace_table(con, "identity.customer_map", customer_map, "rid", params)
            # by customer (customer_ord: customer_id's order), then link type and the two records'
            # keys (their rids), then identifier kind: a customer's links sit in few row groups
            replace_table(
                con, "identity.links", links, "l.customer_ord, e.link_type, e.rid_l, e.rid_r, e.identifier_kind"
            )
            con.execute(f"CREATE OR REPLACE TABLE identity.rejected_links AS {rejected_links} ORDER BY ALL")
            con.execute(f"CREATE OR REPLACE TABLE identity.clusters AS {_WHOLE_CLUSTERS}")
        con.execute(f"""
            CREATE OR REPLACE TABLE identity.excluded_identifiers AS
            SELECT kind, value, records, people, reason FROM {EXCLUDED} ORDER BY kind, value
        """)
        con.execute("""CREATE TABLE IF NOT EXISTS identity.id_history (run_id VARCHAR, customer_id VARCHAR,
                       event VARCHAR, related_customer_id VARCHAR, "at" TIMESTAMP)""")
        con.execute("DELETE FROM identity.id_history WHERE run_id = $run_id", {"run_id": run_id})
        con.execute(
            """INSERT INTO identity.id_history
                       SELECT $run_id, customer_id, event, related_customer_id, $at FROM temp._id_events
                       ORDER BY customer_id, event""",
            params,
        )
        write_graph_state(con, config, "temp._id_components", restricted, night_inputs)
        write_record_numbers(con, RECORDS)
        if result.model is not None and result.model.state_ready:
            # sorted on the rids, numbered in record-key order (records.py): the order of sorting
            # on the four key strings (ORDER BY ALL: 0.7 CPU s at 1M records against 0.45); a
            # pair is scored once, so the rids leave no tie
            write_state(
                con,
                f"""
                SELECT l.source, l.source_record_id, r.source, r.source_record_id,
                       e.match_probability, e.match_weight, e.match_weights, e.sparse, e.rid_l, e.rid_r
                FROM temp._id_scored_edges e
                JOIN {RECORDS} l ON l.rid = e.rid_l JOIN {RECORDS} r ON r.rid = e.rid_r
                {{where}}
                ORDER BY e.rid_l, e.rid_r""",
                # the kept rows are patched when they carry tonight's numbers, else written anew
                incremental=result.model.mode == "incremental" and numbers_kept(con),
            )
        # the run's log row commits with the tables it describes
        _summarise(con, result)
        _write_run_row(con, run_id, run_at, result)


# identity.clusters written whole: a customer's records from ``_id_rid_customer`` (the rows of
# customer_map, grouped on the customer's number rather than read back and grouped on the ID
# string), its link counts from the links just written; the same rows as ``clusters`` above
_WHOLE_CLUSTERS = """
    WITH m AS (SELECT customer_ord, any_value(customer_id) AS customer_id, count(*) AS records,
                      list(DISTINCT source ORDER BY source) AS sources, any_value(created_at) AS created_at
               FROM temp._id_rid_customer GROUP BY customer_ord),
         k AS (SELECT customer_id,
                      count(*) FILTER (WHERE link_type = 'deterministic') AS deterministic,
                      count(*) FILTER (WHERE link_type = 'probabilistic') AS probabilistic,
                      count(*) FILTER (WHERE link_type = 'review') AS review
               FROM identity.links GROUP BY customer_id)
    SELECT m.customer_id, m.records, m.sources, coalesce(k.deterministic, 0) AS deterministic_links,
           coalesce(k.probabilistic, 0) AS probabilistic_links, coalesce(k.review, 0) AS review_links,
           m.created_at
    FROM m LEFT JOIN k USING (customer_id)
    ORDER BY m.customer_ord"""

_LINK_COLUMNS = [
    "customer_id",
    "source_l",
    "record_l",
    "source_r",
    "record_r",
    "link_type",
    "identifier_kind",
    "identifier_value",
    "match_probability",
    "match_weight",
    "match_weights",
    "note",
]
_REJECTED_COLUMNS = [
    "customer_id_l",
    "customer_id_r",
    "source_l",
    "record_l",
    "source_r",
    "record_r",
    "link_type",
    "identifier_kind",
    "match_probability",
    "reason",
]
_CLUSTER_COLUMNS = [
    "customer_id",
    "records",
    "sources",
    "deterministic_links",
    "probabilistic_links",
    "review_links",
    "created_at",
]


def _drop_moved_columns(con: duckdb.DuckDBPyConnection) -> None:
    """A customer_map kept from before the record count moved to identity.clusters.records: drop
    the column (a night after a code change clusters everything and writes the table anew, so
    this is only a safeguard)."""
    cols = {r[0] for r in con.execute("DESCRIBE identity.customer_map").fetchall()}
    if "customer_records" in cols:
        con.execute("ALTER TABLE identity.customer_map DROP COLUMN customer_records")


def _write_run_row(con: duckdb.DuckDBPyConnection, run_id: str, run_at: dt.datetime, result: IdentityResult) -> None:
    """One row per run: what the churn check and the UI read."""
    con.execute("""CREATE TABLE IF NOT EXISTS identity.runs (run_id VARCHAR, "at" TIMESTAMP, records BIGINT,
                   customers BIGINT, previous_records BIGINT, records_still_present BIGINT,
                   records_changed_id BIGINT, id_change_share DOUBLE, created BIGINT, merged BIGINT,
                   split BIGINT, retired BIGINT, excluded_identifiers BIGINT, clusters_split BIGINT,
                   scoring VARCHAR, records_rescored BIGINT, model_retrained BOOLEAN, match_threshold DOUBLE,
                   sparse_pair_threshold DOUBLE, sparse_expected_precision DOUBLE, sparse_links BIGINT)""")
    for column, kind in (
        ("scoring", "VARCHAR"),
        ("records_rescored", "BIGINT"),
        ("model_retrained", "BOOLEAN"),
        ("match_threshold", "DOUBLE"),
        ("sparse_pair_threshold", "DOUBLE"),
        ("sparse_expected_precision", "DOUBLE"),
        ("sparse_links", "BIGINT"),
    ):
        # a build database from before incremental scoring: add the columns
        con.execute(f"ALTER TABLE identity.runs ADD COLUMN IF NOT EXISTS {column} {kind}")
    ch, ev = result.id_changes, result.id_changes["events"]
    con.execute("DELETE FROM identity.runs WHERE run_id = ?", [run_id])
    model = result.model or ModelRun()
    con.execute(
        """INSERT INTO identity.runs (run_id, "at", records, customers, previous_records,
                   records_still_present, records_changed_id, id_change_share, created, merged, split, retired,
                   excluded_identifiers, clusters_split, scoring, records_rescored, model_retrained,
                   match_threshold, sparse_pair_threshold, sparse_expected_precision, sparse_links)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            run_id,
            run_at,
            result.records,
            result.customers,
            ch["previous_records"],
            ch["records_still_present"],
            ch["records_changed_id"],
            ch["id_change_share"],
            ev["created"],
            ev["merged"],
            ev["split"],
            ev["retired"],
            result.excluded_identifiers,
            result.splitting.get("clusters_split", 0),
            model.mode,
            model.records_rescored,
            model.retrained,
            *(
                (t.match_threshold, t.sparse_threshold, t.sparse_expected_precision, t.sparse_links)
                if (t := model.thresholds)
                else (None, None, None, None)
            ),
        ],
    )


def default_paths(settings) -> tuple[Path, Path]:
    """(review file, reports dir) in the settings' inbox and reports folders."""
    return settings.inbox_dir / REVIEW_FILE_NAME, settings.reports_dir / "identity"


__all__ = ["IDENTITY_TABLES", "IdentityResult", "default_paths", "resolve_identities", "table_exists"]
