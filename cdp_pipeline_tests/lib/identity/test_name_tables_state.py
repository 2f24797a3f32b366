"""The kept identity state (model, scored pairs, graph) is rebuilt when the name tables first names
are graded with change: the data files lib/identity reads (first_names.json, the packaged and the
user's name_variants.yaml) are part of the kept model's and graph's hashes, so the night after such
a change takes the full path instead of keeping scores and clusters the old tables made."""

import json
import shutil

import pytest

from cdp_pipeline.lib.identity import name_variants as nv
from cdp_pipeline_tests.lib.identity.test_incremental import DAY2, _resolve, two_nights  # noqa: F401


def test_the_same_night_again_is_kept_whole(two_nights, tmp_path):  # noqa: F811
    """The baseline of the test below: with the same tables, the same night keeps everything."""
    shutil.copy(two_nights["root"] / "incremental.duckdb", tmp_path / "kept.duckdb")
    result, _ = _resolve(tmp_path / "kept.duckdb", two_nights["night2"], two_nights["config"], DAY2)
    assert not result.model.retrained and result.graph["clustered"] == "no records (nothing changed)"


@pytest.mark.parametrize("change", ["first_names.json", "user name_variants.yaml"])
def test_a_changed_name_table_retrains_the_model_and_reclusters_every_record(
    two_nights,  # noqa: F811
    tmp_path,
    monkeypatch,
    change,
):
    shutil.copy(two_nights["root"] / "incremental.duckdb", tmp_path / "build.duckdb")
    kw = {}
    if change == "first_names.json":
        tables = json.loads(nv.FIRST_NAMES.read_text(encoding="utf-8"))
        tables["real"] = sorted(set(tables["real"]) | {"zzyzx"})
        changed = tmp_path / "first_names.json"
        changed.write_text(json.dumps(tables), encoding="utf-8")
        monkeypatch.setattr(nv, "FIRST_NAMES", changed)
        nv._stored_first_names.cache_clear()
    else:
        (tmp_path / "name_variants.yaml").write_text("groups:\n  zzyzx: [Zzyzx, Zyx]\n", encoding="utf-8")
        kw["name_variants"] = nv.load_name_variants(tmp_path)
    try:
        result, _ = _resolve(tmp_path / "build.duckdb", two_nights["night2"], two_nights["config"], DAY2, **kw)
    finally:
        nv._stored_first_names.cache_clear()
    assert result.model.retrained and "name tables" in result.model.retrain_reason
    assert result.model.mode == "full" and result.model.records_rescored == result.model.records_in_model
    assert result.graph["clustered"] == "all records"
