# Every target bootstraps .venv from nothing when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test hunt fuzz bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $(STAMP)

# The demo's catalog is kept (demo.db, remade each time; its token secret demo.db.secret stays)
# so that the serving lines the demo ends with can serve it.
DEMO_DB = sqlite:///demo.db
demo: $(STAMP)
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/catalogql demo --db $(DEMO_DB)
	@echo "(catalogql is $(BIN)/catalogql: run '. $(BIN)/activate' first)"

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks conftest.py
	$(BIN)/ruff format --check src tests benchmarks conftest.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	$(BIN)/python -m pytest -n 2

# Bug hunting, not gating: the property tests with random seeds and HUNT_SCALE times the examples.
HUNT_SCALE ?= 10
hunt: $(STAMP)
	CATALOGQL_HYPOTHESIS_PROFILE=hunt CATALOGQL_PROPERTY_SCALE=$(HUNT_SCALE) \
		$(BIN)/python -m pytest -n 2 -p no:cacheprovider tests

# Bounded fuzzing: generated and mutated inputs through every entry point (see the README, Tests).
FUZZ_N ?= 100000
FUZZ_SEED ?= 0
FUZZ_MAX_SECONDS ?= inf
fuzz: $(STAMP)
	FUZZ_N=$(FUZZ_N) FUZZ_SEED=$(FUZZ_SEED) FUZZ_MAX_SECONDS=$(FUZZ_MAX_SECONDS) \
		$(BIN)/python -m catalogql.testing.fuzz --out fuzz-findings \
		--corpus tests/corpus --corpus ../shared/fixtures/wild-filters.tsv

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks conftest.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

clean:
	rm -rf $(VENV) build dist fuzz-findings .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
