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

.PHONY: setup run test ui bench clean

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

clean:
	rm -rf data/landing data/warehouse data/exports data/reports data/sample_truth .dagster_home
