"""Session fixtures shared by the reliability tests: one tiny generated sample, and the
first night over it run twice, in two separate folders, at the same time.

Night 1 loads the first two landing days; the crash tests play night 2 (the third day
arrives) from a copy of night 1's folder, the determinism test compares the two
night-1 folders, and the hostile-corpus test compares its night against night 1.
"""

import shutil
from pathlib import Path

import pytest

from cdp_pipeline.lib.sample_data import generate_sample
from cdp_pipeline_tests.reliability.harness import Night, finish, start_run

CUSTOMERS, DAYS, SEED = 60, 3, 7


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory) -> Path:
    """A generated landing folder with every day of the sample (truth kept outside any data folder)."""
    root = tmp_path_factory.mktemp("sample")
    generate_sample(
        root / "landing", customers=CUSTOMERS, days=DAYS, seed=SEED, truth_file=root / "truth" / "truth.csv"
    )
    return root / "landing"


def landing_days(landing: Path) -> list[str]:
    return sorted({p.name for p in landing.glob("*/*") if p.is_dir()})


def lay_landing(src: Path, dst: Path, days: list[str]) -> None:
    """Copy the given landing days of ``src`` into ``dst`` (``<source>/<day>/<file>``)."""
    for day_dir in sorted(src.glob("*/*")):
        if day_dir.name in days:
            shutil.copytree(day_dir, dst / day_dir.parent.name / day_dir.name, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def _early_nights(request, sample_landing, tmp_path_factory) -> dict:
    """Start, at the same time, every independent night this session needs: night 1 twice, and
    the hostile-corpus night when its tests are selected (a run waits on I/O a good part of
    its time, so running them side by side saves wall time on two cores)."""
    days = landing_days(sample_landing)[:-1]
    started = {}
    for name in ("night1_a", "night1_b"):
        night = Night.create(tmp_path_factory.mktemp(name))
        lay_landing(sample_landing, night.landing, days)
        started[name] = (night, None, start_run(night))
    if any(item.module.__name__.endswith("test_hostile_corpus") for item in request.session.items):
        from cdp_pipeline_tests.reliability.test_hostile_corpus import prepare_hostile_night

        night, laid = prepare_hostile_night(sample_landing, tmp_path_factory.mktemp("hostile"))
        started["hostile"] = (night, laid, start_run(night))
    yield started
    for _, _, proc in started.values():
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(scope="session")
def night1_pair(_early_nights) -> tuple[Night, Night]:
    """Night 1 (the first two landing days) run in two separate folders, concurrently."""
    nights = []
    for name in ("night1_a", "night1_b"):
        night, _, proc = _early_nights[name]
        outcome = finish(proc)
        assert outcome.returncode == 0, f"night 1 in {night.root} failed:\n{outcome.stderr[-3000:]}"
        nights.append(night)
    return nights[0], nights[1]


@pytest.fixture(scope="session")
def hostile_night_run(_early_nights):
    """(night, laid files, outcome) of the night over the baseline plus the hostile corpus."""
    night, laid, proc = _early_nights["hostile"]
    return night, laid, finish(proc)
