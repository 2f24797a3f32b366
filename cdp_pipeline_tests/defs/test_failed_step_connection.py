"""A step that fails must not take the next steps with it: its build-database connection is closed
even though the step raised, so what it registered on the database (the staging Python functions)
is gone when the next step connects."""

import dagster as dg

from cdp_pipeline.defs.resources import BuildDatabase
from cdp_pipeline.lib.staging.udfs import register_udfs, udf_specs


@dg.asset
def fails_after_registering(duckdb: BuildDatabase) -> None:
    with duckdb.get_connection() as con:
        register_udfs(con)
        raise RuntimeError("out of memory, say")


@dg.asset
def registers_again(duckdb: BuildDatabase) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        names = register_udfs(con)
        value = con.execute("SELECT std_email('  Anna@Example.COM ')").fetchone()[0]
    return dg.MaterializeResult(metadata={"functions": len(names), "email": value})


def test_a_failed_step_does_not_fail_the_next_step_that_registers_the_same_functions(tmp_path):
    result = dg.materialize(
        [fails_after_registering, registers_again],
        resources={"duckdb": BuildDatabase(database=str(tmp_path / "build.duckdb"))},
        raise_on_error=False,
    )
    assert not result.success
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failed == ["fails_after_registering"]
    [materialized] = result.asset_materializations_for_node("registers_again")
    assert materialized.metadata["email"].value == "anna@example.com"
    assert materialized.metadata["functions"].value == len(udf_specs())  # every one registered again
