"""The identity model kept between nights, and what it has already scored.

Training the Splink model (prior, u, EM) is most of the identity stage's cost, and a
model retrained every night scores yesterday's pairs a little differently from today's.
So a trained model is kept in the build database with its term-frequency tables, and
used night after night until it is due for retraining. With a fixed model a pair of
unchanged records always gets the same score, which is what lets a night rescore only
the records that changed (``scoring.py``) and still equal a full rebuild.

Tables (schema ``identity``):

* ``model``: one row, the model in use: Splink settings JSON, when and on what it was
  trained, the hash of the configuration it was trained under;
* ``model_term_frequencies``: its name frequencies (``column_name, value, tf``), frozen at
  training time: the model's view of how common a name is;
* ``scored_records``: per record the hash of the input the model last scored it on;
* ``scored_pairs``: every record pair the model scored at or above the prediction floor
  (``thresholds.prediction_floor``), by record key, unfiltered (``write_probabilistic_edges``):
  which of them become links is decided each night afterwards (``thresholds.apply_thresholds``,
  then the cannot-links and cardinality rules).

The model is retrained when there is none, when ``identity.yaml``'s model settings, the name
tables first names are graded with (``IdentityConfig.name_tables``) or the model code changed,
when it is ``CDP_MODEL_RETRAIN_DAYS`` days older than the data, or when people were erased
since it was trained (its frequency tables counted their names).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass

import duckdb

from cdp_pipeline.lib.common.warehouse import erasures_executed, table_exists
from cdp_pipeline.lib.identity.config import IdentityConfig
from cdp_pipeline.lib.identity.storage import column_definitions
from cdp_pipeline.lib.identity.thresholds import SCORED_EDGES

MODEL = "identity.model"
MODEL_TF = "identity.model_term_frequencies"
SCORED_RECORDS = "identity.scored_records"
SCORED_PAIRS = "identity.scored_pairs"
STATE_TABLES = ("model", "model_term_frequencies", "scored_records", "scored_pairs")

# with each record's number (``rid``, ``record_numbers.py``) of the night that wrote the row: a night
# whose records keep their numbers reads the kept scores by number rather than by text key
_SCORED_RECORD_TYPES = [
    ("source", "VARCHAR"),
    ("source_record_id", "VARCHAR"),
    ("input_hash", "VARCHAR"),
    ("rid", "BIGINT"),
]
_SCORED_PAIR_TYPES = [
    ("source_l", "VARCHAR"),
    ("record_l", "VARCHAR"),
    ("source_r", "VARCHAR"),
    ("record_r", "VARCHAR"),
    ("match_probability", "DOUBLE"),
    ("match_weight", "DOUBLE"),
    ("match_weights", "VARCHAR"),
    ("sparse", "BOOLEAN"),
    ("rid_l", "BIGINT"),
    ("rid_r", "BIGINT"),
]

# What the night's scoring leaves in TEMP for ``write_state`` (inside the identity transaction).
NEW_MODEL = "temp._id_new_model"
NEW_TF = "temp._id_new_tf"
NEW_SCORED_RECORDS = "temp._id_new_scored_records"
# of NEW_SCORED_RECORDS, what SCORED_RECORDS keeps
KEPT_COLUMNS = "source, source_record_id, input_hash, rid"


@dataclass(frozen=True)
class StoredModel:
    settings_json: str
    config_hash: str
    trained_at: dt.datetime
    data_as_of: dt.date | None
    records: int
    erasures_at_training: int


def config_hash(config: IdentityConfig) -> str:
    """Everything a model's scores depend on besides its parameters: the Splink section of
    ``identity.yaml`` (comparisons' blocking, threshold, training rules), the name tables first names
    are graded with (``IdentityConfig.name_tables``; the packaged ones when empty) and the code version."""
    from cdp_pipeline.lib.common.code_version import source_hash
    from cdp_pipeline.lib.identity.name_variants import load_name_variants, name_tables_hash

    payload = json.dumps(
        {
            "splink": asdict(config.splink),
            "name_tables": config.name_tables or name_tables_hash(load_name_variants()),
            "source": source_hash(
                "lib/identity/splink_model.py",
                "lib/identity/u_keyed_counts.py",
                "lib/identity/name_keys.py",
                "lib/identity/name_variants.py",
            ),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def ensure_state_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS identity")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {MODEL} (settings_json VARCHAR, config_hash VARCHAR,
                    trained_at TIMESTAMP, data_as_of DATE, records BIGINT, erasures_at_training BIGINT)""")
    con.execute(f"CREATE TABLE IF NOT EXISTS {MODEL_TF} (column_name VARCHAR, value VARCHAR, tf DOUBLE)")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SCORED_RECORDS} ({column_definitions(SCORED_RECORDS, _SCORED_RECORD_TYPES)})"
    )
    con.execute(f"CREATE TABLE IF NOT EXISTS {SCORED_PAIRS} ({column_definitions(SCORED_PAIRS, _SCORED_PAIR_TYPES)})")
    # kept from a build before the per-pair thresholds: the column is filled when the model,
    # whose settings changed with it, rescores every pair
    con.execute(f"ALTER TABLE {SCORED_PAIRS} ADD COLUMN IF NOT EXISTS sparse BOOLEAN")
    # kept from a build before record numbers were kept: never read by number (splink_model.py
    # is in config_hash, so the first night of this code retrains, numbers its records afresh and
    # writes both tables whole: ``write_state``)
    con.execute(f"ALTER TABLE {SCORED_RECORDS} ADD COLUMN IF NOT EXISTS rid BIGINT")
    con.execute(f"ALTER TABLE {SCORED_PAIRS} ADD COLUMN IF NOT EXISTS rid_l BIGINT")
    con.execute(f"ALTER TABLE {SCORED_PAIRS} ADD COLUMN IF NOT EXISTS rid_r BIGINT")


def load_model(con: duckdb.DuckDBPyConnection) -> StoredModel | None:
    if not table_exists(con, "identity", "model"):
        return None
    rows = con.execute(
        f"SELECT settings_json, config_hash, trained_at, data_as_of, records, erasures_at_training FROM {MODEL}"
    ).fetchall()
    return StoredModel(*rows[0]) if len(rows) == 1 else None


def retrain_reason(
    con: duckdb.DuckDBPyConnection,
    stored: StoredModel | None,
    config: IdentityConfig,
    as_of: dt.date | None,
    retrain_days: int,
) -> str | None:
    """Why the model must be (re)trained tonight, or None to reuse the stored one."""
    if stored is None:
        return "no stored model"
    if stored.config_hash != config_hash(config):
        return "identity.yaml model settings or model code changed, or the name tables first names are graded with"
    if retrain_days <= 0:
        return "CDP_MODEL_RETRAIN_DAYS is 0 (retrain every night)"
    if as_of and stored.data_as_of and (as_of - stored.data_as_of).days >= retrain_days:
        return f"model trained on data as of {stored.data_as_of}, {(as_of - stored.data_as_of).days} days old"
    if erasures_executed(con) > stored.erasures_at_training:
        return "people were erased since training (its name frequencies counted them)"
    if not table_exists(con, "identity", "model_term_frequencies"):
        return "stored model has no term-frequency tables"
    return None


def stored_term_frequencies(con: duckdb.DuckDBPyConnection, column: str, out_table: str) -> None:
    """The stored frequencies of ``column`` as a TEMP table shaped like Splink's (``col, tf_col``)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {out_table.split(".")[-1]} AS
                    SELECT value AS "{column}", tf AS "tf_{column}" FROM {MODEL_TF}
                    WHERE column_name = $c ORDER BY value""",
        {"c": column},
    )


def forget_state(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the stored model and scores (an engine that keeps none ran: the next night starts afresh)."""
    for t in STATE_TABLES:
        con.execute(f"DROP TABLE IF EXISTS identity.{t}")


def write_state(con: duckdb.DuckDBPyConnection, scored_pairs_sql: str, *, incremental: bool = False) -> None:
    """Persist tonight's model (if retrained), record hashes and scored pairs. Runs inside the
    caller's transaction with the identity tables, so the state always matches them.

    ``scored_pairs_sql`` selects tonight's pairs by record key (columns of ``scored_pairs``,
    then ``rid_l, rid_r``), from tonight's scored edges (``thresholds.SCORED_EDGES``) aliased ``e``
    (``e.rid_l``, ``e.rid_r``), with ``{where}``
    where a WHERE clause may go (before its ORDER BY, which DuckDB does not push a filter below).
    ``incremental``: only records outside ``temp._id_unchanged`` were scored and tonight's records
    carry their kept numbers (``record_numbers.numbers_kept``), so the kept rows' ``rid`` columns are
    tonight's; the rows of unchanged records are kept and the rest replaced. Otherwise every row
    is written with tonight's numbers."""
    ensure_state_tables(con)
    if table_exists_temp(con, NEW_MODEL):
        con.execute(f"DELETE FROM {MODEL}")
        con.execute(f"INSERT INTO {MODEL} SELECT * FROM {NEW_MODEL}")
        con.execute(f"DELETE FROM {MODEL_TF}")
        con.execute(f"INSERT INTO {MODEL_TF} SELECT * FROM {NEW_TF} ORDER BY column_name, value")
    if incremental:
        # Tonight's rescored records (new or changed) and the kept ones that are not unchanged
        # (changed or removed), each found once: a few thousand on a quiet night, which the rows
        # below are matched against rather than the nearly 1M unchanged records by their text keys
        # (each of three statements built and probed that set). A kept pair's two records are kept
        # records: both tables are written together, here, from one night's model input.
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_rescored AS
                        SELECT rid FROM {NEW_SCORED_RECORDS} WHERE rid NOT IN (SELECT rid FROM temp._id_unchanged)""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_scored_gone AS
                        SELECT rid FROM {SCORED_RECORDS} ANTI JOIN temp._id_unchanged USING (rid)""")
        gone = "(SELECT rid FROM temp._id_scored_gone)"
        con.execute(f"DELETE FROM {SCORED_RECORDS} WHERE rid IN {gone}")
        con.execute(f"""INSERT INTO {SCORED_RECORDS} SELECT {KEPT_COLUMNS} FROM {NEW_SCORED_RECORDS}
                        WHERE rid IN (SELECT rid FROM temp._id_rescored) ORDER BY source, source_record_id""")
        con.execute(f"DELETE FROM {SCORED_PAIRS} WHERE rid_l IN {gone} OR rid_r IN {gone}")
        # tonight's scored pairs with a rescored end, picked out first: DuckDB joins every scored
        # pair with the records before it applies an OR of two IN-subqueries, but takes a single
        # IN on the pair below the joins (write_state 0.55 -> 0.28 CPU s at 155,000 customers x
        # 90 days; 0.72-0.93 before either change here)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_rescored_pairs AS
                        SELECT rid_l, rid_r FROM {SCORED_EDGES}
                        WHERE rid_l IN (SELECT rid FROM temp._id_rescored) OR rid_r IN (SELECT rid FROM temp._id_rescored)""")
        changed = scored_pairs_sql.format(
            where="WHERE (e.rid_l, e.rid_r) IN (SELECT rid_l, rid_r FROM temp._id_rescored_pairs)"
        )
        con.execute(f"INSERT INTO {SCORED_PAIRS} SELECT * FROM ({changed})")
        return
    # every row rewritten: the tables made anew (ZSTD_COLUMNS, storage.py) rather than emptied
    for table, types in ((SCORED_RECORDS, _SCORED_RECORD_TYPES), (SCORED_PAIRS, _SCORED_PAIR_TYPES)):
        con.execute(f"CREATE OR REPLACE TABLE {table} ({column_definitions(table, types)})")
    con.execute(
        f"INSERT INTO {SCORED_RECORDS} SELECT {KEPT_COLUMNS} FROM {NEW_SCORED_RECORDS} ORDER BY source, source_record_id"
    )
    con.execute(f"INSERT INTO {SCORED_PAIRS} SELECT * FROM ({scored_pairs_sql.format(where='')})")


def table_exists_temp(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    table = name.split(".")[-1]
    return bool(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [table]).fetchall()[0][0]
    )


def clear_pending_state(con: duckdb.DuckDBPyConnection) -> None:
    for t in (NEW_MODEL, NEW_TF, NEW_SCORED_RECORDS):
        con.execute(f"DROP TABLE IF EXISTS {t}")
