"""`cdp run` records its runs with the code location the UI loads from workspace.yaml."""

from cdp_pipeline.launch import code_location_origin
from cdp_pipeline_tests.conftest import REPO_ROOT


def test_the_location_is_the_one_workspace_yaml_declares(tmp_path):
    assert code_location_origin(REPO_ROOT / "workspace.yaml").location_name == "cdp_pipeline"
    renamed = tmp_path / "workspace.yaml"
    renamed.write_text(
        "load_from:\n  - python_module:\n      module_name: cdp_pipeline.definitions\n      location_name: cdp_nights\n"
    )
    origin = code_location_origin(renamed)
    assert origin.location_name == "cdp_nights"
    assert origin.loadable_target_origin.module_name == "cdp_pipeline.definitions"


def test_without_workspace_yaml_the_location_keeps_its_usual_name(tmp_path):
    origin = code_location_origin(tmp_path / "workspace.yaml")
    assert origin.location_name == "cdp_pipeline"
    assert origin.loadable_target_origin.module_name == "cdp_pipeline.definitions"


def test_a_second_run_in_one_process_executes_the_definitions_of_its_own_settings(cdp_env, monkeypatch, tmp_path):
    """cli.main run twice in one process, for two warehouses: the second run must not execute
    the job (and build database resource) that Dagster kept from the first."""
    import dagster as dg

    from cdp_pipeline.launch import execute_job_run, load_job

    executed = []

    def record(recon_job, run, instance, raise_on_error):
        resource = recon_job.get_definition().resource_defs["duckdb"]
        executed.append(resource.config_schema.default_value["database"])

    monkeypatch.setattr("dagster._core.execution.api.execute_run", record)
    with dg.instance_for_test() as instance:
        for name in ("a", "b"):
            monkeypatch.setenv("CDP_WAREHOUSE", str(tmp_path / name / "cdp.duckdb"))
            execute_job_run(load_job("nightly"), instance, tags={}, run_config={})
    assert executed == [str(tmp_path / name / "build" / "cdp_build.duckdb") for name in ("a", "b")]
