"""The linkage stage on Spark (``CDP_ENGINE=spark``), through Splink's Spark backend.

Only Splink's training and prediction move: the model's input table is built in DuckDB
as always (``build_splink_input``), handed to Spark as Arrow, trained and scored there
with the same settings and training steps as the DuckDB path (``splink_model.train_model``),
and the scored pairs above the threshold come back to DuckDB as Arrow, where
``splink_model.write_probabilistic_edges`` turns them into ``temp._id_prob_edges``
exactly as it does for the DuckDB path. Clustering, the guards, persistent IDs and
explanations never know which engine ran.

Local mode (``local[*]``) is the default; a cluster is a matter of ``CDP_SPARK_MASTER``,
``CDP_SPARK_CONF`` and a ``CDP_SPARK_CHECKPOINT_DIR`` every node can reach (docs/spark.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from cdp_pipeline.lib.identity.config import IdentityConfig
from cdp_pipeline.lib.identity.splink_model import (
    SPLINK_INPUT,
    ModelRun,
    _write_reports,
    households_seen,
    train_model,
    two_names_one_household_gamma,
    write_probabilistic_edges,
)
from cdp_pipeline.lib.identity.thresholds import prediction_floor

log = logging.getLogger(__name__)

SPARK_PREDICTIONS = "_id_spark_predictions"  # the scored pairs, registered in DuckDB as an Arrow view
APP_NAME = "cdp_pipeline-identity"

# Local mode only (a cluster's own defaults win there): Spark's default of 200 shuffle
# partitions makes every small stage pay for 200 tasks; the UI is nobody's on a batch night.
LOCAL_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": str(max(2, 2 * (os.cpu_count() or 1))),
    "spark.default.parallelism": str(max(2, 2 * (os.cpu_count() or 1))),
    "spark.driver.memory": "4g",
}
# Always: dates and timestamps must not shift with the machine's time zone on the way through Arrow.
ALWAYS = {"spark.sql.session.timeZone": "UTC"}


def parse_spark_conf(text: str) -> dict[str, str]:
    """``CDP_SPARK_CONF``: ``key=value;key=value`` (blank items ignored; values may contain ``=``)."""
    out: dict[str, str] = {}
    for item in (text or "").split(";"):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"CDP_SPARK_CONF: expected key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def spark_properties(master: str, conf_text: str, jar: str) -> dict[str, str]:
    """Every property the session is built with: local defaults, then the user's, plus Splink's UDF jar.

    The jar holds Splink's string-similarity functions (Jaro-Winkler, Damerau-Levenshtein):
    it is appended to any ``spark.jars`` the user gives, never replaces it.
    """
    props = dict(LOCAL_DEFAULTS) if master.startswith("local") else {}
    props.update(ALWAYS)
    user = parse_spark_conf(conf_text)
    props.update(user)
    jars = [j for j in user.get("spark.jars", "").split(",") if j.strip()]
    if jar not in jars:
        jars.append(jar)
    props["spark.jars"] = ",".join(jars)
    return props


def _local_path(location: str) -> Path | None:
    if "://" not in location:
        return Path(location)
    if location.startswith("file://"):
        return Path(location[len("file://") :])
    return None


@contextlib.contextmanager
def spark_session(settings) -> Iterator[tuple[object, str]]:
    """A Spark session set up for Splink (``settings``: ``spark_master``, ``spark_conf``,
    ``spark_checkpoint_dir``), and this run's checkpoint folder.

    An already active session (a notebook, Databricks) is used as it is and left running;
    a session started here is stopped afterwards, and the run's checkpoint folder removed
    when it is on a local path.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise RuntimeError(
            "CDP_ENGINE=spark needs pyspark: pip install 'cdp_pipeline[spark]' "
            "(and Java 17 on the PATH), or unset CDP_ENGINE"
        ) from exc
    from splink.backends.spark import similarity_jar_location

    checkpoint_dir = f"{settings.spark_checkpoint_dir.rstrip('/')}/run-{uuid.uuid4().hex[:12]}"
    local_dir = _local_path(checkpoint_dir)
    if local_dir is not None:
        local_dir.mkdir(parents=True, exist_ok=True)

    spark = SparkSession.getActiveSession()
    started_here = spark is None
    if started_here:
        builder = SparkSession.builder.master(settings.spark_master).appName(APP_NAME)
        for key, value in spark_properties(
            settings.spark_master, settings.spark_conf, similarity_jar_location()
        ).items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("WARN")
    spark.sparkContext.setCheckpointDir(checkpoint_dir)
    log.info(
        "identity model on Spark %s (master %s), checkpoints in %s",
        spark.version,
        spark.sparkContext.master,
        checkpoint_dir,
    )
    try:
        yield spark, checkpoint_dir
    finally:
        if started_here:
            spark.stop()
        if local_dir is not None:
            shutil.rmtree(local_dir, ignore_errors=True)


def train_and_predict_on_spark(
    con: duckdb.DuckDBPyConnection, config: IdentityConfig, reports_dir: Path | None, run: ModelRun, settings
) -> None:
    """The DuckDB path's training and prediction, run by Splink's Spark backend.

    Reads ``_id_splink_input`` from ``con``; writes ``temp._id_prob_edges`` into ``con``.
    """
    # the model's input leaves DuckDB as Arrow (a few narrow columns: ~100 MB per million records)
    records = con.sql(f"SELECT * FROM {SPLINK_INPUT} ORDER BY unique_id").to_arrow_table()
    with spark_session(settings) as (spark, _checkpoint_dir):
        from splink.backends.spark import SparkAPI

        # local mode: Splink's work tables stay cached in the one JVM (parquet round trips cost
        # ~25% of a small run); on a cluster, Splink's default (parquet in the checkpoint folder)
        local = spark.sparkContext.master.startswith("local")
        db_api = SparkAPI(spark_session=spark, break_lineage_method="persist" if local else None)
        sdf = db_api.register(spark.createDataFrame(records), dataset_display_name=SPLINK_INPUT)
        linker = train_model(sdf, config, run, dialect="spark")
        if reports_dir is not None:
            _write_reports(linker, Path(reports_dir), run)
        pred = linker.inference.predict(threshold_match_probability=prediction_floor(config.splink))
        # only pairs at or above the floor come back: small next to the input
        scored = pred.as_spark_dataframe().toArrow()
    con.register(SPARK_PREDICTIONS, scored)
    try:
        write_probabilistic_edges(
            con,
            SPARK_PREDICTIONS,
            scored.column_names,
            config,
            run,
            households=households_seen(con),
            two_names_one_household=two_names_one_household_gamma(linker),
        )
    finally:
        con.unregister(SPARK_PREDICTIONS)
