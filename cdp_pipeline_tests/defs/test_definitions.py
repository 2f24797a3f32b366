"""The Dagster project loads, and its asset graph has the layers the design promises."""

import re
import subprocess
import sys
from pathlib import Path

import dagster as dg

from cdp_pipeline.definitions import defs
from cdp_pipeline.defs.partitions import landing_date_partitions
from cdp_pipeline.settings import Settings


def _graph():
    return defs().resolve_asset_graph()


def test_definitions_load():
    dg.Definitions.validate_loadable(defs())


def test_nightly_job_schedule_and_sensor_exist():
    d = defs()
    job = d.resolve_job_def("nightly")
    assert job.executor_def.name == "cdp_threaded"
    assert job.partitions_def == landing_date_partitions  # inferred from the selected assets
    schedule = d.resolve_schedule_def("nightly_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Stockholm"
    assert d.resolve_sensor_def("landing_file_sensor").job_name == "nightly"


EXPECTED_ASSETS = {
    "raw": {
        "crm_customers",
        "esp_members",
        "esp_activity",
        "sms_messages",
        "web_events",
        "pos_orders",
        "pos_receipts",
        "pos_square_items",
    },
    "audit": {"files", "quarantine", "erasure_log"},
    "staging": {
        "identity_records",
        "email_activity",
        "sms_messages",
        "web_events",
        "web_sessions",
        "orders",
        "order_lines",
        "consent_events",
    },
    "identity": {
        "customer_map",
        "links",
        "rejected_links",
        "clusters",
        "excluded_identifiers",
        "id_history",
        "runs",
        "anonymous_visitors",
    },
    "golden": {"customers", "customer_timeline", "identifier_consent"},
    "segments": {"definitions", "membership", "history", "sizes"},
    "activation": {"export_members", "export_log"},
    "publish": {"warehouse"},
}


def test_identity_waits_for_identity_records_only_and_the_anonymous_visitors_for_the_web_events():
    # The identity step reads staging.identity_records alone: it starts without waiting for the
    # web events' build, which runs beside it (defs/executor.py). identity.anonymous_visitors
    # counts the web events' cookies, in a step of its own that must wait for them.
    graph = _graph()
    web_events, records = dg.AssetKey(["staging", "web_events"]), dg.AssetKey(["staging", "identity_records"])
    anonymous = dg.AssetKey(["identity", "anonymous_visitors"])
    for table in ("customer_map", "links", "clusters", "runs"):
        parents = graph.get(dg.AssetKey(["identity", table])).parent_keys
        assert records in parents and web_events not in parents, table
        assert web_events not in graph.get_ancestor_asset_keys(dg.AssetKey(["identity", table]))
    assert graph.get(anonymous).parent_keys == {web_events}
    # a step of its own: not materialised by the identity multi-asset's step
    assert (
        graph.get(anonymous).assets_def.node_def.name
        != graph.get(dg.AssetKey(["identity", "customer_map"])).assets_def.node_def.name
    )


def test_asset_graph_has_the_expected_groups_and_keys():
    graph = _graph()
    found: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        found.setdefault(graph.get(key).group_name, set()).add(key.path[-1])
    assert found == EXPECTED_ASSETS


def test_raw_and_audit_ledger_assets_are_daily_partitioned_and_the_rest_are_not():
    graph = _graph()
    for key in graph.get_all_asset_keys():
        partitioned = graph.get(key).partitions_def is not None
        assert partitioned == (key.path[0] == "raw" or key.path in (["audit", "files"], ["audit", "quarantine"])), key


def test_every_raw_and_staging_asset_has_a_check():
    graph = _graph()
    checked = {k.asset_key for k in graph.asset_check_keys}
    for key in graph.get_all_asset_keys():
        if key.path[0] in ("raw", "staging"):
            assert key in checked, key


def test_asset_keys_are_schema_and_table_and_groups_match_schema():
    graph = _graph()
    keys = graph.get_all_asset_keys()
    assert dg.AssetKey(["publish", "warehouse"]) in keys
    for key in keys:
        if graph.get(key).is_external:
            continue
        assert len(key.path) == 2, key
        assert graph.get(key).group_name == key.path[0], key


def test_publish_runs_after_every_other_asset():
    graph = _graph()
    publish = dg.AssetKey(["publish", "warehouse"])
    upstream = graph.upstream_key_iterator(publish)
    others = {k for k in graph.get_all_asset_keys() if k != publish and not graph.get(k).is_external}
    ancestors = set()
    frontier = list(upstream)
    while frontier:
        k = frontier.pop()
        if k not in ancestors:
            ancestors.add(k)
            frontier.extend(graph.get(k).parent_keys)
    assert others <= ancestors, others - ancestors


def test_publish_declares_every_table_of_the_night_as_a_dep():
    graph = _graph()
    publish = dg.AssetKey(["publish", "warehouse"])
    others = {k for k in graph.get_all_asset_keys() if k != publish and not graph.get(k).is_external}
    assert set(graph.get(publish).parent_keys) == others


def test_no_definitions_module_reads_the_settings_when_imported():
    """Settings are read when the code location loads or a step runs: a test or `cdp` that sets
    CDP_* variables after importing the package is obeyed."""
    program = """
import importlib, pkgutil
import cdp_pipeline.settings as settings
class ReadAtImport(BaseException):
    pass
def refuse():
    raise ReadAtImport()
settings.get_settings = refuse
import cdp_pipeline.defs as defs
for module in pkgutil.walk_packages(defs.__path__, "cdp_pipeline.defs."):
    try:
        importlib.import_module(module.name)
    except ReadAtImport:
        print(module.name)
"""
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []


def test_schedule_time_zone_and_segment_checks_follow_the_settings_in_force_when_the_definitions_load(
    cdp_env, monkeypatch, tmp_path
):
    config = tmp_path / "config"
    config.mkdir()
    (config / "segments.yaml").write_text(
        "segments:\n  - name: only_one\n    description: test\n    predicate: total_spend > 0\n"
    )
    monkeypatch.setenv("CDP_CONFIG_DIR", str(config))
    monkeypatch.setenv("CDP_TIMEZONE", "America/New_York")
    d = defs()
    assert d.resolve_schedule_def("nightly_schedule").execution_timezone == "America/New_York"
    checks = {k.name for k in d.resolve_asset_graph().asset_check_keys if k.asset_key.path[0] == "segments"}
    assert checks == {"segment_only_one_valid", "all_segment_definitions_valid", "history_agrees_with_membership"}


def test_lib_is_handed_its_settings():
    """lib/ is plain Python: the definitions (and cli.py) read the settings and pass what a
    function needs (a config folder, a time zone, a region, the settings of the engine)."""
    import re
    from pathlib import Path

    # the project's reader, called bare or through its module; not Splink's creator.get_settings(dialect)
    reads_settings = re.compile(r"(?<![\w.])get_settings\b|\bsettings\.get_settings\b")
    assert reads_settings.search("from cdp_pipeline.settings import get_settings")
    assert reads_settings.search("x = settings.get_settings().data_dir")
    assert not reads_settings.search("settings = creator.get_settings(dialect)")
    lib = Path(__file__).resolve().parents[2] / "cdp_pipeline" / "lib"
    readers = [
        str(path.relative_to(lib))
        for path in sorted(lib.rglob("*.py"))
        if reads_settings.search(path.read_text(encoding="utf-8"))
    ]
    assert readers == []


# Functions Dagster calls outside a run's steps: when the code location loads, at a schedule's or
# a sensor's tick. Only these read the settings; an asset or check is handed them.
SETTINGS_READERS = {"definitions", "schedule", "sensor"}


def _settings_readers(source: str) -> list[tuple[str, bool]]:
    """(function, whether Dagster calls it outside a step) for each function naming get_settings."""
    import ast

    found = []

    def visit(node, enclosing):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            kinds = {
                (d.func if isinstance(d, ast.Call) else d).attr
                for d in getattr(node, "decorator_list", [])
                if isinstance(d.func if isinstance(d, ast.Call) else d, ast.Attribute)
            }
            enclosing = [*enclosing, (getattr(node, "name", "<lambda>"), bool(kinds & SETTINGS_READERS))]
        named = (isinstance(node, ast.Name) and node.id == "get_settings") or (
            isinstance(node, ast.Attribute) and node.attr == "get_settings"
        )
        if named:
            found.append((enclosing[-1][0] if enclosing else "<module>", any(ok for _, ok in enclosing)))
        for child in ast.iter_child_nodes(node):
            visit(child, enclosing)

    visit(ast.parse(source), [])
    return found


def test_assets_and_checks_are_handed_the_settings_never_read_them():
    """The `settings` resource is built from the settings in force when the code location loads;
    an asset or check takes it as a parameter (settings: CdpSettings) and never calls
    get_settings() itself, so what a run uses is what the UI shows as the resource."""
    example = (
        "@dg.definitions\ndef resources():\n    return get_settings()\n"
        "@dg.asset(pool=P)\ndef a(duckdb):\n    return load(get_settings().config_dir)\n"
        "x = lambda con: settings.get_settings().timezone\n"
    )
    assert _settings_readers(example) == [("resources", True), ("a", False), ("<lambda>", False)]

    readers = {
        f"{path.relative_to(PACKAGE / 'defs')}:{function}": allowed
        for path in sorted((PACKAGE / "defs").rglob("*.py"))
        for function, allowed in _settings_readers(path.read_text(encoding="utf-8"))
    }
    assert readers["resources.py:resources"]  # the walk sees the one that must read them
    assert [reader for reader, allowed in readers.items() if not allowed] == []

    d = defs()
    assert isinstance(d.resources["settings"].resource_fn(None), Settings)
    takes_settings = {
        node.key.to_user_string()
        for node in d.resolve_asset_graph().asset_nodes
        if "settings" in node.assets_def.required_resource_keys
    }
    assert {"golden/customers", "segments/definitions", "publish/warehouse", "raw/crm_customers"} <= takes_settings


# ---------------------------------------------------------------------------------------------
# The tree shows the layers: a layer is one schema, one asset group, defs/<layer> and lib/<layer>.

PACKAGE = Path(__file__).resolve().parents[2] / "cdp_pipeline"
# lib/ packages that are not a layer: what every layer shares, and the sample generator.
LIB_NOT_A_LAYER = {"common", "sample_data"}


def _packages(folder: Path) -> set[str]:
    return {p.parent.name for p in folder.glob("*/__init__.py")}


def _defining_folder(asset: dg.AssetsDefinition) -> str:
    module = asset.op.compute_fn.decorated_fn.__module__
    assert module.startswith("cdp_pipeline.defs."), module
    return module.split(".")[2]


def test_every_asset_group_is_a_folder_of_defs_and_a_package_of_lib_with_its_name():
    groups = {node.group_name for node in _graph().asset_nodes}
    assert groups == {"raw", "staging", "identity", "golden", "segments", "activation", "audit", "publish"}
    # one folder per group, and no folder that is not a group
    assert _packages(PACKAGE / "defs") == groups
    assert _packages(PACKAGE / "lib") - LIB_NOT_A_LAYER == groups


def test_every_asset_is_defined_in_the_folder_of_its_group():
    placed = {}
    for asset in defs().assets:
        if isinstance(asset, dg.AssetsDefinition) and asset.is_executable:
            folder = _defining_folder(asset)
            for key in asset.keys:
                placed[key.to_user_string()] = (asset.group_names_by_key[key], folder)
    assert placed, "no assets found"
    elsewhere = {key: folder for key, (group, folder) in placed.items() if group != folder}
    assert elsewhere == {}


_FILE_EXPR = re.compile(
    r"Path\(__file__\)(?:\.resolve\(\))?(?P<up>(?:\.parent(?!s))+|\.parents\[(?P<n>\d+)\])"
    r"""(?P<segs>(?:\s*/\s*(?:"[^"{}\n]*"|'[^'{}\n]*'))*)"""
)


def file_relative_targets(path: Path) -> list[Path]:
    """Where each ``Path(__file__)...`` expression of a module points."""
    targets = []
    for m in _FILE_EXPR.finditer(path.read_text(encoding="utf-8")):
        up = int(m.group("n")) if m.group("n") is not None else m.group("up").count(".parent") - 1
        segments = [s for seg in re.findall(r"""["']([^"']*)["']""", m.group("segs")) for s in seg.split("/") if s]
        targets.append(path.resolve().parents[up].joinpath(*segments))
    return targets


def lib_reaches_by_path(lib: Path) -> list[str]:
    """lib modules whose ``Path(__file__)`` arithmetic leaves their own package: allowed are the
    package's own files, the packaged configuration, and (for the code fingerprint in lib/common)
    the package root, from which it hashes files that the layers name."""
    package = lib.parent
    found = []
    for path in sorted(lib.rglob("*.py")):
        own = lib / path.relative_to(lib).parts[0]
        for target in file_relative_targets(path):
            if target.is_relative_to(own) or target.is_relative_to(package / "config"):
                continue
            if own.name == "common" and target == package:
                continue
            found.append(f"{path.relative_to(package)} -> {target.relative_to(package.parent)}")
    return found


def test_lib_modules_never_reach_into_another_folder_by_path(tmp_path):
    assert lib_reaches_by_path(PACKAGE / "lib") == []
    # the check sees the old way: lib/raw/ledger.py reading the raw SQL from defs/ by path
    fake = tmp_path / "cdp_pipeline" / "lib" / "raw"
    fake.mkdir(parents=True)
    (fake / "ledger.py").write_text('SQL_DIR = Path(__file__).resolve().parents[2] / "defs" / "raw" / "sql"\n')
    (fake / "fine.py").write_text('SQL_DIR = Path(__file__).parent / "sql"\n')
    assert lib_reaches_by_path(tmp_path / "cdp_pipeline" / "lib") == ["lib/raw/ledger.py -> cdp_pipeline/defs/raw/sql"]


def test_lib_never_imports_the_definitions_and_dagster_only_where_listed():
    """lib is plain Python under the definitions. run_lock marks a killed `cdp run` failed in the
    Dagster instance, so the UI and the run queue stop counting it as running."""

    def importing(pattern: str) -> list[str]:
        return [
            str(path.relative_to(PACKAGE))
            for path in sorted((PACKAGE / "lib").rglob("*.py"))
            if re.search(rf"^\s*(from|import) {pattern}", path.read_text(encoding="utf-8"), re.M)
        ]

    assert importing(r"cdp_pipeline\.defs\b") == []
    assert importing(r"dagster") == ["lib/common/run_lock.py"]


def test_the_lib_tests_mirror_the_lib_packages():
    tests = Path(__file__).resolve().parents[1] / "lib"
    assert _packages(tests) <= _packages(PACKAGE / "lib")
    loose = sorted(p.name for p in tests.glob("test_*.py"))
    assert loose == [], "a lib test belongs in the folder of the package it tests"


def _owner(parts: tuple[str, ...]) -> str:
    """The package a module of cdp_pipeline belongs to: lib/<layer> and defs/<layer> are the
    layer's (one owner for both); any other module (cli, settings, defs/resources) is its own."""
    parts = tuple(p.removesuffix(".py") for p in parts)
    if len(parts) >= 2 and parts[0] in ("lib", "defs"):
        return parts[1]
    return "/".join(parts)


def private_imports(package: Path) -> list[str]:
    """Each ``_private`` name a module of ``package`` takes from another package of it: imported
    by name (``from cdp_pipeline.lib.segments.store import _fetch``), a private module
    (``from cdp_pipeline.lib.staging import _common``), or read through an imported module
    (``store._fetch(...)``)."""
    import ast

    root = package.name

    def is_private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    def module_parts(dotted: str) -> tuple[str, ...] | None:
        parts = tuple(dotted.split("."))
        return parts[1:] if parts[0] == root and len(parts) > 1 else None

    def is_module(parts: tuple[str, ...]) -> bool:
        target = package.joinpath(*parts)
        return target.with_suffix(".py").exists() or (target / "__init__.py").exists()

    found = []
    for path in sorted(package.rglob("*.py")):
        here = path.relative_to(package).parts
        mine = _owner(here)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules: dict[str, tuple[str, ...]] = {}  # local name -> module of another package

        def flag(line: int, parts: tuple[str, ...], name: str) -> None:
            found.append(f"{'/'.join(here)}:{line} {'.'.join(parts)}.{name}")

        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.level:  # a relative import: resolve it against this module's package
                    base = here[: len(here) - node.level]
                    parts = (*base, *node.module.split("."))
                else:
                    parts = module_parts(node.module)
                if parts is None:
                    continue
                for alias in node.names:
                    target = (*parts, alias.name) if is_module((*parts, alias.name)) else parts
                    if _owner(target) == mine:
                        continue
                    if any(is_private(p) for p in parts) or is_private(alias.name):
                        flag(node.lineno, parts, alias.name)
                    elif target != parts:
                        modules[alias.asname or alias.name] = target
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = module_parts(alias.name)
                    if parts is None or _owner(parts) == mine:
                        continue
                    if any(is_private(p) for p in parts):
                        flag(node.lineno, parts[:-1], parts[-1])
                    elif alias.asname:
                        modules[alias.asname] = parts
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and is_private(node.attr)
            ):
                flag(node.lineno, modules[node.value.id], node.attr)
    return found


def test_no_module_takes_a_private_name_of_another_package(tmp_path):
    """A layer uses the public functions of the layers upstream of it (issue 18); lib/<layer> and
    defs/<layer> are one package."""
    assert private_imports(PACKAGE) == []
    # the check sees each way of taking one
    fake = tmp_path / "cdp_pipeline"
    for folder in ("lib/segments", "lib/staging", "lib/activation", "defs/activation", "defs/segments"):
        (fake / folder).mkdir(parents=True)
        (fake / folder / "__init__.py").write_text("")
    (fake / "lib/segments/store.py").write_text("def _fetch(): ...\ndef run_date(): ...\n")
    (fake / "lib/staging/_common.py").write_text("X = 1\n")
    (fake / "defs/segments/assets.py").write_text(
        "from cdp_pipeline.lib.segments.store import _fetch, run_date\n"  # own layer: fine
    )
    (fake / "lib/activation/store.py").write_text(
        "from cdp_pipeline.lib.segments.store import _fetch, run_date\n"
        "from cdp_pipeline.lib.staging import _common\n"
        "from cdp_pipeline.lib.segments import store\n"
        "store._fetch(); store.run_date()\n"
    )
    (fake / "defs/activation/assets.py").write_text(
        "import cdp_pipeline.lib.segments.store as segments_store\nsegments_store._fetch()\n"
    )
    assert sorted(private_imports(fake)) == [
        "defs/activation/assets.py:2 lib.segments.store._fetch",
        "lib/activation/store.py:1 lib.segments.store._fetch",
        "lib/activation/store.py:2 lib.staging._common",
        "lib/activation/store.py:4 lib.segments.store._fetch",
    ]
