"""`cdp run` records its runs with the code location the UI loads from workspace.yaml."""

from cdp_pipeline.launch import code_location_origin
from cdp_pipeline_tests.conftest import REPO_ROOT


def test_the_location_is_the_one_workspace_yaml_declares(tmp_path):
    assert code_location_origin(REPO_ROOT / "workspace.yaml").location_name == "cdp_pipeline"
    renamed = tmp_path / "workspace.yaml"
    renamed.write_text("load_from:\n  - python_module:\n      module_name: cdp_pipeline.definitions\n"
                       "      location_name: cdp_nights\n")
    origin = code_location_origin(renamed)
    assert origin.location_name == "cdp_nights"
    assert origin.loadable_target_origin.module_name == "cdp_pipeline.definitions"


def test_without_workspace_yaml_the_location_keeps_its_usual_name(tmp_path):
    origin = code_location_origin(tmp_path / "workspace.yaml")
    assert origin.location_name == "cdp_pipeline"
    assert origin.loadable_target_origin.module_name == "cdp_pipeline.definitions"
