"""The YAML files an operator edits, as an operator meets them (``CDP_CONFIG_DIR``): a file changing
one key keeps the packaged defaults for the rest (identity.yaml, survivorship.yaml), a misspelt key,
a value of the wrong type or a file that is not YAML is refused with a message naming the file and
the key, and ``cdp run`` refuses such a folder before anything is written."""

import pytest

from cdp_pipeline.lib.activation.destinations import load_destinations
from cdp_pipeline.lib.common.config_files import ConfigError, merged
from cdp_pipeline.lib.golden.survivorship import load_survivorship_config
from cdp_pipeline.lib.identity.config import PACKAGED_CONFIG_PATH, load_identity_config
from cdp_pipeline.lib.identity.name_variants import load_name_variants
from cdp_pipeline.lib.segments.definitions import load_segment_definitions


@pytest.fixture(autouse=True)
def _no_threshold_from_the_environment(monkeypatch):
    monkeypatch.delenv("CDP_MATCH_THRESHOLD", raising=False)


def _write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_merged_merges_mappings_and_replaces_everything_else():
    packaged = {"a": {"x": 1, "y": 2}, "b": [1, 2], "c": {"z": 1}}
    assert merged(packaged, {"a": {"x": 5}, "b": [3], "c": None}) == {"a": {"x": 5, "y": 2}, "b": [3], "c": {"z": 1}}


def test_a_user_identity_yaml_changing_one_key_keeps_the_packaged_rest(tmp_path):
    _write(tmp_path, "identity.yaml", "max_people_per_identifier:\n  email: 3\nsplink:\n  seed: 7\n")
    packaged = load_identity_config(PACKAGED_CONFIG_PATH)
    user = load_identity_config(config_dir=tmp_path)
    assert user.max_people_per_identifier == {**packaged.max_people_per_identifier, "email": 3}
    assert user.max_people_per_identifier["phone"] == 6
    # the household guard is not switched off by a file that does not mention it
    assert user.name_guarded_kinds == ("email", "phone", "cookie")
    assert user.cardinality_rules == packaged.cardinality_rules
    assert user.splink == packaged.splink.__class__(**{**packaged.splink.__dict__, "seed": 7})


def test_an_empty_user_identity_yaml_is_the_packaged_one(tmp_path):
    _write(tmp_path, "identity.yaml", "# nothing changed yet\n")
    assert load_identity_config(config_dir=tmp_path) == load_identity_config(PACKAGED_CONFIG_PATH)


def test_a_user_list_replaces_the_packaged_list_whole(tmp_path):
    _write(tmp_path, "identity.yaml", "name_guarded_kinds: [email]\nsplink:\n  prior_rules: [[email]]\n")
    config = load_identity_config(config_dir=tmp_path)
    assert config.name_guarded_kinds == ("email",)
    assert config.splink.prior_rules == (("email",),)


@pytest.mark.parametrize(
    "text, message",
    [
        ("name_guarded_kind: [email]\n", "unknown key name_guarded_kind (did you mean name_guarded_kinds?)"),
        (
            "splink:\n  blocking_rule: [[email]]\n",
            "unknown key splink.blocking_rule (did you mean splink.blocking_rules?)",
        ),
        ("max_people_per_identifier:\n  emial: 3\n", "unknown key max_people_per_identifier.emial"),
        ("max_people_per_identifier:\n  email: six\n", "max_people_per_identifier.email must be a whole number"),
        ("splink:\n  match_threshold: high\n", "splink.match_threshold must be a number or null"),
        ("splink:\n  match_threshold: 2\n", "splink.match_threshold must be between 0 and 1"),
        ("name_guarded_kinds: email\n", "name_guarded_kinds must be a list"),
        ("name_guarded_kinds: [email, mobile]\n", "unknown identifier kind 'mobile'"),
        ("cardinality_rules:\n  - name: x\n    column: birth_date\n", "cardinality_rules[0] needs max_distinct"),
        ("cardinality_rules:\n  - name: x\n    column: c\n    max_distinct: 1\n    tolerence: typo\n", "tolerence"),
        ("max_people_per_identifier: {email: 3\n", "not valid YAML at line"),
        # negative limits were taken as they stood (every identifier over a limit of -1; no pairs sampled)
        ("max_people_per_identifier:\n  email: -1\n", "max_people_per_identifier.email must be at least 1, not -1"),
        (
            "max_records_per_identifier:\n  loyalty_card: 0\n",
            "max_records_per_identifier.loyalty_card must be at",
        ),
        (
            "cardinality_rules:\n  - name: x\n    column: c\n    max_distinct: -2\n",
            "cardinality_rules[0].max_distinct must be at least 1, not -2",
        ),
        ("splink:\n  u_max_pairs: -1000\n", "splink.u_max_pairs must be at least 1, not -1000"),
        ("splink:\n  em_max_pairs: 0\n", "splink.em_max_pairs must be at least 1, not 0"),
        ("splink:\n  rare_name_max_records: -5\n", "splink.rare_name_max_records must be at least 0, not -5"),
        ("- just\n- a list\n", "expected a mapping of identity settings, not a list"),
    ],
)
def test_a_user_identity_yaml_the_platform_cannot_use_is_refused_naming_the_file_and_the_key(tmp_path, text, message):
    path = _write(tmp_path, "identity.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_identity_config(config_dir=tmp_path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_a_user_name_variants_yaml_with_a_misspelt_key_is_refused(tmp_path):
    path = _write(tmp_path, "name_variants.yaml", "group:\n  ingrid: [Ingrid, Inga]\n")
    with pytest.raises(ConfigError, match="unknown key group .did you mean groups"):
        load_name_variants(tmp_path)
    assert str(path) in str(pytest.raises(ConfigError, load_name_variants, tmp_path).value)


def test_a_config_folder_without_survivorship_yaml_uses_the_packaged_rules(tmp_path):
    assert load_survivorship_config(tmp_path) == load_survivorship_config(None)


def test_a_user_survivorship_yaml_changing_one_group_keeps_the_packaged_others(tmp_path):
    _write(tmp_path, "survivorship.yaml", "attributes:\n  birth_date:\n    rules: [most_recent]\n")
    packaged = {g.name: g for g in load_survivorship_config(None)}
    user = {g.name: g for g in load_survivorship_config(tmp_path)}
    assert set(user) == set(packaged)
    assert [r.name for r in user["birth_date"].rules] == ["most_recent"]
    assert {n: g for n, g in user.items() if n != "birth_date"} == {
        n: g for n, g in packaged.items() if n != "birth_date"
    }


def test_a_user_survivorship_group_regrouping_packaged_columns_replaces_those_groups(tmp_path):
    _write(
        tmp_path,
        "survivorship.yaml",
        "attributes:\n  contact:\n    columns: [email, phone]\n    rules: [valid_only, most_recent]\n",
    )
    groups = {g.name: g.columns for g in load_survivorship_config(tmp_path)}
    assert groups["contact"] == ("email", "phone") and "email" not in groups and "phone" not in groups
    assert groups["address"] == ("street", "postcode", "city", "country")


@pytest.mark.parametrize(
    "text, message",
    [
        ("attributes:\n  birth_date:\n    rule: [most_recent]\n", "unknown key attributes.birth_date.rule"),
        ("attribute:\n  birth_date:\n    rules: [most_recent]\n", "unknown key attribute (did you mean attributes?)"),
        ("attributes:\n  birth_date:\n    rules: [newest]\n", "unknown rule 'newest'"),
        ("attributes: [birth_date]\n", "attributes must be a mapping"),
    ],
)
def test_a_user_survivorship_yaml_the_platform_cannot_use_is_refused(tmp_path, text, message):
    path = _write(tmp_path, "survivorship.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_survivorship_config(tmp_path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_a_misspelt_destination_key_is_refused_not_exported_without_its_consent(tmp_path):
    path = _write(
        tmp_path,
        "destinations.yaml",
        "destinations:\n  - name: meta\n    kind: meta_audience\n    segments: [champions]\n"
        "    required_consnet: [email]\n",
    )
    with pytest.raises(ConfigError) as err:
        load_destinations(tmp_path)
    assert str(err.value).startswith(f"{path}: ")
    assert "unknown key destinations[meta].required_consnet (did you mean destinations[meta].required_consent?)" in str(
        err.value
    )


@pytest.mark.parametrize(
    "load, name, text",
    [
        (load_destinations, "destinations.yaml", "destination:\n  - name: meta\n"),
        (load_segment_definitions, "segments.yaml", "segment:\n  - name: vip\n    predicate: true\n"),
    ],
)
def test_a_misspelt_list_key_is_refused_not_read_as_an_empty_list(tmp_path, load, name, text):
    path = _write(tmp_path, name, text)
    with pytest.raises(ConfigError, match="unknown key") as err:
        load(tmp_path)
    assert str(err.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    "load, name", [(load_destinations, "destinations.yaml"), (load_segment_definitions, "segments.yaml")]
)
def test_a_list_file_that_is_not_yaml_is_refused_naming_the_file(tmp_path, load, name):
    path = _write(tmp_path, name, "destinations:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line") as err:
        load(tmp_path)
    assert str(err.value).startswith(f"{path}: ")


def test_a_user_list_file_is_the_whole_list(tmp_path):
    """segments.yaml and destinations.yaml are lists a user owns: theirs replaces the packaged one."""
    _write(tmp_path, "segments.yaml", "segments:\n  - name: vip\n    predicate: orders_count > 10\n")
    assert [d.name for d in load_segment_definitions(tmp_path)] == ["vip"]


def test_a_segment_with_a_misspelt_key_fails_on_its_own(tmp_path):
    """A segment's problems fail that segment's check and leave the others building (definitions.py)."""
    _write(
        tmp_path,
        "segments.yaml",
        "segments:\n  - name: vip\n    predicate: orders_count > 10\n    tag: [x]\n"
        "  - name: all\n    predicate: orders_count >= 0\n",
    )
    vip, everyone = load_segment_definitions(tmp_path)
    assert vip.load_error == (
        f"{tmp_path / 'segments.yaml'}: segment 'vip': unknown key 'tag' (allowed: name, description, predicate, "
        "owner, tags)"
    )
    assert everyone.load_error is None


@pytest.mark.parametrize("value, kind", [("true", "boolean True"), ("no", "boolean False"), ("1", "number 1")])
def test_a_segment_predicate_yaml_reads_as_a_boolean_or_number_is_named_as_such(tmp_path, value, kind):
    # `predicate: true` (everyone) is YAML's boolean, not SQL: it said "has no predicate", which it has
    _write(tmp_path, "segments.yaml", f"segments:\n  - name: everyone\n    predicate: {value}\n")
    (everyone,) = load_segment_definitions(tmp_path)
    assert everyone.load_error.startswith(
        f"{tmp_path / 'segments.yaml'}: segment 'everyone': predicate is the YAML {kind}"
    )
    assert 'write the condition in quotes (predicate: "true"' in everyone.load_error


def test_cdp_run_refuses_a_config_folder_it_cannot_use_before_writing_anything(tmp_path, monkeypatch, capsys):
    from cdp_pipeline.cli import main

    config = tmp_path / "config"
    config.mkdir()
    path = _write(config, "identity.yaml", "name_guarded_kind: [email]\n")
    landing = tmp_path / "data" / "landing" / "crm" / "2026-10-01"
    landing.mkdir(parents=True)
    (landing / "customers_20261001.csv").write_text("customer_id\n1\n")
    monkeypatch.setenv("CDP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CDP_CONFIG_DIR", str(config))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cdp: {path}: unknown key name_guarded_kind")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["landing"]


def test_a_replaced_survivorship_group_keeps_its_place():
    from cdp_pipeline.lib.golden.survivorship import merged_attributes

    packaged = {"name": {"columns": ["first_name"]}, "email": {}, "phone": {}, "address": {"columns": ["street"]}}
    user = {"contact": {"columns": ["email", "phone"]}, "name": {"columns": ["first_name"], "rules": ["x"]}}
    assert list(merged_attributes(packaged, user)) == ["name", "contact", "address"]
    assert merged_attributes(packaged, user)["name"] == user["name"]
