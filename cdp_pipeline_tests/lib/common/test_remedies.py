"""A failed check says what the operator does next (lib/common/remedies.py)."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cdp_pipeline.definitions import defs
from cdp_pipeline.defs.staging.checks import staging_checks
from cdp_pipeline.lib.common.remedies import REMEDIES, remedy


def test_every_blocking_check_has_a_remedy():
    # a blocking check stops the night before publish: its failure must say what to do, not only count
    graph = defs().resolve_asset_graph()
    blocking = {k.name for k in graph.asset_check_keys if graph.get_check_spec(k).blocking}
    assert blocking == {
        "key_is_unique",
        "staged_exports_have_consent",
        "exported_rows_have_consent",
        "no_erased_identifiers_remain",
    }
    assert blocking <= set(REMEDIES)
    # and a remedy is for a check that exists
    assert set(REMEDIES) <= {k.name for k in graph.asset_check_keys}


def test_a_failed_check_carries_its_remedy_and_a_passing_one_none():
    assert remedy("key_is_unique", True) == {}
    assert remedy("key_is_unique", False)["remedy"].startswith("The run stopped before publish")
    assert remedy("a_check_without_one", False) == {}


def test_a_duplicated_staging_key_fails_with_the_remedy_in_its_metadata(tmp_path):
    # staging.orders with one order_id twice: the staging step's key_is_unique fails and tells the operator
    # what to do; consent_events' passing check carries no remedy
    path = str(tmp_path / "w.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.orders AS SELECT * FROM (VALUES ('order:#1'), ('order:#1')) t(order_id)")
    con.close()
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [dg.AssetSpec(["staging", "orders"]), *staging_checks],
            selection=dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey(["staging", "orders"]), "key_is_unique")),
            resources={"duckdb": DuckDBResource(database=path)},
            instance=instance,
            raise_on_error=False,  # a failed blocking check fails its step
        )
        (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.metadata["duplicated_keys"].value == 1
    assert evaluation.metadata["remedy"].value.startswith("The run stopped before publish")
    assert "cdp run --day <day>" in evaluation.metadata["remedy"].value
