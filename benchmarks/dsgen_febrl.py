"""FEBRL-class data sets made by FEBRL's own generator (dsgen ``generate.py``), at chosen seeds.

FEBRL3 and FEBRL4 are held out for an outside evaluation and never read here. What we may do
is run the program that made them, with the parameters their README publishes, at our own
seeds: records of the same kind (Australian names and addresses from the same frequency tables,
the same corruption operators and rates, clusters up to six records), never the same records.

The generator is another project's code (Febrl 0.4.2, ANU Open Source Licence / GPL) and is not
part of this repository: ``--dsgen PATH`` names a checkout's ``dsgen`` folder, e.g. of
https://github.com/J535D165/FEBRL-fork-v0.4.2 at commit 38e0bf211a141723601750b114cda69578cf3f09
(``git clone … && git -C FEBRL-fork-v0.4.2 checkout 38e0bf2``; PATH = ``FEBRL-fork-v0.4.2/dsgen``).
It is Python 2; ``prepare`` copies it to a work folder, converts it with lib2to3 (present up to
Python 3.12) and makes the few edits listed in ``EDITS`` (each must match exactly once, so another
version of the file fails loudly instead of generating something else):

- seeded from ``DSGEN_SEED`` (the original calls ``random.seed()``: a new data set every run);
- Python 2 idioms 2to3 leaves: integer ``/``, the ``sets`` and ``string`` module functions;
- the frequency tables the fork ships (``data/*-freq.csv``; the code names a ``data-org`` folder
  the fork does not have);
- the fields of the published FEBRL files (given_name … soc_sec_id: no age, phone or blocking
  number), their selection probabilities rescaled to sum to one as before;
- misspelling lists in sorted order (they are built from sets: iteration order must not depend
  on string hashing), no per-record console output.

Published parameters (dsgen/README.txt):

- FEBRL3: ``generate.py dataset3.csv 2000 3000 5 4 6 zipf`` (5,000 records, 2,000 originals,
  up to five duplicates each, up to 4 modifications in a field and 6 in a record);
- FEBRL4: ``generate.py dataset4.csv 5000 5000 1 2 4 uniform``, originals and duplicates then
  split into two files (a two-source link).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

UPSTREAM = "https://github.com/J535D165/FEBRL-fork-v0.4.2"
UPSTREAM_COMMIT = "38e0bf211a141723601750b114cda69578cf3f09"

# name -> (generate.py arguments after the output file, layout in benchmarks/febrl_landing.py)
PROFILES = {
    # FEBRL1/2's published parameters: set beside the real FEBRL1/2 they calibrate the generator
    "febrl1-like": (("500", "500", "1", "1", "1", "uniform"), "crm_dedupe"),
    "febrl2-like": (("4000", "1000", "5", "2", "2", "poisson"), "crm_dedupe"),
    "febrl3-like": (("2000", "3000", "5", "4", "6", "zipf"), "crm_dedupe"),
    "febrl4-like": (("5000", "5000", "1", "2", "4", "uniform"), "two_source"),
}

_FIELDS_OLD = (
    "field_list = [givenname_dict, surname_dict, streetnumber_dict, address1_dict,\n"
    "              address2_dict, suburb_dict, postcode_dict, state_dict,\n"
    "              dob_dict, age_dict, phonenum_dict, ssid_dict, blocking_dict]\n"
)
_FIELDS_NEW = (
    "field_list = [givenname_dict, surname_dict, streetnumber_dict, address1_dict,\n"
    "              address2_dict, suburb_dict, postcode_dict, state_dict,\n"
    "              dob_dict, ssid_dict]\n"
    "_sel = sum(d['select_prob'] for d in field_list)\n"
    "for _d in field_list:\n"
    "  _d['select_prob'] = _d['select_prob'] / _sel\n"
)
_SHIM = (
    "import string\n"
    "string.replace = lambda s, old, new: s.replace(old, new)\n"
    "string.lowercase = string.ascii_lowercase\n"
    "string.zfill = lambda s, n: s.zfill(n)\n"
)

# (pattern, replacement, expected matches) applied after 2to3, in order.
EDITS = (
    (r"^import sets\n", "", 1),
    (r"sets\.Set\(\)", "set()", 5),
    (r"^import string\n", _SHIM, 1),
    (r"^random\.seed\(\)$", "random.seed(int(os.environ['DSGEN_SEED']))", 1),
    (r"mid_pos = \(str_len \+ len_offset\) / 2 \+ 1", "mid_pos = (str_len + len_offset) // 2 + 1", 1),
    (r"'data-org'\+os\.sep\+'(\w+)\.csv'", r"'data'+os.sep+'\1-freq.csv'", 8),
    (re.escape(_FIELDS_OLD), _FIELDS_NEW.replace("\\", "\\\\"), 1),
    (
        r"misspell_dict\[k\] = list\(misspell_dict\[k\]\)",
        "misspell_dict[k] = sorted(misspell_dict[k])",
        1,
    ),
    (r"^VERBOSE_OUTPUT = True$", "VERBOSE_OUTPUT = False", 1),
)


def prepare(dsgen: Path | str, work: Path | str) -> Path:
    """A Python 3, seedable copy of ``<dsgen>/generate.py`` and its ``data`` folder in ``work``;
    returns the converted script's path."""
    dsgen, work = Path(dsgen), Path(work)
    src = dsgen / "generate.py"
    if not src.is_file() or not (dsgen / "data").is_dir():
        raise FileNotFoundError(f"{dsgen}: not a Febrl dsgen folder (generate.py and data/ expected)")
    work.mkdir(parents=True, exist_ok=True)
    shutil.copytree(dsgen / "data", work / "data", dirs_exist_ok=True)
    script = work / "generate_py3.py"
    shutil.copyfile(src, script)
    conv = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "lib2to3", "-w", "-n", str(script)],
        capture_output=True,
        text=True,
    )
    if conv.returncode != 0:
        raise RuntimeError(f"2to3 failed on {src}: {conv.stderr[-2000:]}")
    text = script.read_text(encoding="latin-1")
    for pattern, repl, expected in EDITS:
        text, n = re.subn(pattern, repl, text, flags=re.MULTILINE)
        if n != expected:
            raise RuntimeError(f"{src}: edit {pattern[:60]!r} matched {n} times, expected {expected}")
    script.write_text(text, encoding="latin-1")
    return script


def generate(script: Path | str, profile: str, seed: int, out_csv: Path | str) -> Path:
    """Run the converted generator with a published profile's parameters at ``seed``."""
    args, _ = PROFILES[profile]
    script, out_csv = Path(script), Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DSGEN_SEED": str(seed), "PYTHONHASHSEED": "0"}
    run = subprocess.run(
        [sys.executable, "-W", "ignore", script.name, str(out_csv.resolve()), *args],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0 or not out_csv.is_file():
        raise RuntimeError(f"generate.py {profile} seed {seed} failed: {run.stdout[-1500:]} {run.stderr[-1500:]}")
    return out_csv


def layout(profile: str) -> str:
    return PROFILES[profile][1]


if __name__ == "__main__":  # python benchmarks/dsgen_febrl.py DSGEN_DIR WORK PROFILE SEED OUT.csv
    dsgen_dir, work_dir, prof, seed_, out = sys.argv[1:6]
    print(generate(prepare(dsgen_dir, work_dir), prof, int(seed_), out))
