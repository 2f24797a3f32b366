"""Each configuration loader as an operator meets it: a CDP_CONFIG_DIR holding one file per case
(one key changed, a misspelt key, a wrong type, an empty file, a file that is not YAML), and a folder
without survivorship.yaml. Prints one Markdown row per case: what the loader gives or raises.

    PYTHONPATH=TREE python benchmarks/config_audit.py   # TREE: the code to audit (main's, a branch's)

benchmarks/results/2026-12-07-s44-config.md has main's and s44-config's answers side by side."""

import tempfile
from pathlib import Path

CASES = {
    "identity.yaml": {
        "one key": "max_people_per_identifier:\n  email: 3\n",
        "typo key": "name_guarded_kind: [email]\n",
        "wrong type": "max_people_per_identifier:\n  email: six\n",
        "empty": "",
        "not YAML": "max_people_per_identifier: {email: 3\n",
    },
    "survivorship.yaml": {
        "one key": "attributes:\n  birth_date:\n    rules: [most_recent]\n",
        "typo key": "attributes:\n  birth_date:\n    rule: [most_recent]\n",
        "wrong type": "attributes: [birth_date]\n",
        "empty": "",
        "not YAML": "attributes: {birth_date: [\n",
    },
    "destinations.yaml": {
        "one key": "destinations:\n  - name: meta\n    kind: meta_audience\n    segments: [champions]\n"
        "    required_consent: [email]\n",
        "typo key": "destinations:\n  - name: meta\n    kind: meta_audience\n    segments: [champions]\n"
        "    required_consnet: [email]\n",
        "wrong type": "destinations:\n  name: meta\n",
        "empty": "",
        "not YAML": "destinations:\n  - name: [meta\n",
    },
    "segments.yaml": {
        "one key": "segments:\n  - name: vip\n    predicate: orders_count > 10\n",
        "typo key": "segment:\n  - name: vip\n    predicate: orders_count > 10\n",
        "wrong type": "segments:\n  - name: vip\n    predicate: orders_count > 10\n    tags: 5\n",
        "empty": "",
        "not YAML": "segments:\n  - name: [vip\n",
    },
    "name_variants.yaml": {
        "one key": "groups:\n  ingrid: [Ingrid, Inga]\n",
        "typo key": "group:\n  ingrid: [Ingrid, Inga]\n",
        "wrong type": "groups:\n  ingrid: Inga\n",
        "empty": "",
        "not YAML": "groups: {ingrid: [Inga\n",
    },
}


def load(name, folder):
    if name == "identity.yaml":
        from cdp_pipeline.lib.identity.config import load_identity_config

        c = load_identity_config(config_dir=folder)
        return (
            f"guarded={list(c.name_guarded_kinds)} people={c.max_people_per_identifier} "
            f"rules={len(c.splink.blocking_rules)} cardinality={len(c.cardinality_rules)}"
        )
    if name == "survivorship.yaml":
        from cdp_pipeline.lib.golden.survivorship import load_survivorship_config

        return f"groups={[g.name for g in load_survivorship_config(folder)]}"
    if name == "destinations.yaml":
        from cdp_pipeline.lib.activation.destinations import load_destinations

        return f"{[(d.name, d.required_consent) for d in load_destinations(folder)]}"
    if name == "segments.yaml":
        from cdp_pipeline.lib.segments.definitions import load_segment_definitions

        return f"{[(d.name, d.load_error) for d in load_segment_definitions(folder)]}"
    from cdp_pipeline.lib.identity.name_variants import load_name_variants

    v = load_name_variants(folder)
    return f"ingrid's groups={sorted(v.groups('ingrid')) if hasattr(v, 'groups') else '?'}"


for name, cases in CASES.items():
    for case, text in cases.items():
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / name).write_text(text)
            try:
                out = "loads: " + load(name, Path(d))
            except Exception as exc:  # noqa: BLE001
                out = f"{type(exc).__name__}: {str(exc).replace(d, '<dir>')}"
            print(f"| {name} | {case} | {out[:300]} |")
with tempfile.TemporaryDirectory() as d:
    try:
        from cdp_pipeline.lib.golden.survivorship import load_survivorship_config

        load_survivorship_config(Path(d))
        print("| (folder without survivorship.yaml) | - | loads |")
    except Exception as exc:  # noqa: BLE001
        print(
            f"| (folder without survivorship.yaml) | - | {type(exc).__name__}: {str(exc).replace(d, '<dir>')[:200]} |"
        )
