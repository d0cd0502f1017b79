# Two commands do all the set-up: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2
# worksteal: each worker starts on one contiguous half and takes work from the other's end when
# it runs out, so a module's tests mostly stay on one worker and its module fixtures (the fault
# matrix's live worlds, the platform fakes' world) are built once, not once per worker
PYTEST_XDIST := -n $(PYTEST_WORKERS) --dist worksteal
# bytecode caches matter here: the tests start many Python processes
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install demo test faults golden templates lint typecheck unit docker-image bench clean

$(STAMP): pyproject.toml setup.py src/cutover/sources/router_logs/_speedups.c
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cutover-gates needs Python 3.11+; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## The main job: prerequisites and gates on an embedded, seeded Postgres and a local RLM simulator.
demo: $(STAMP)
	$(BIN)/cutover demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## The project's own tests (lint, types, unit and end-to-end tests of the gates).
test: lint typecheck
	$(BIN)/pytest tests/unit tests/integration tests/router tests/faults $(PYTEST_XDIST) -p no:cacheprovider

## The fault matrix (tests/faults) alone: ~100 faults, each injected into a live world whose
## gates pass (`make test` runs it too).
faults: $(STAMP)
	$(BIN)/pytest tests/faults $(PYTEST_XDIST) -p no:cacheprovider

## Golden runs: every seeded scenario through every gate marker, against tests/golden/snapshots
## (CUTOVER_UPDATE_GOLDEN=1 rewrites them on purpose; review the diff like code).
golden: $(STAMP)
	$(BIN)/pytest tests/golden -n $(PYTEST_WORKERS) -p no:cacheprovider

## The project as shipped (tests/shipping): the wheel and the sdist built, the wheel installed
## in a new virtualenv (the demo from an empty directory, the gates from a checkout), and every
## GitHub workflow and GitLab job of ci-templates/ run step by step against a live-like target.
templates: $(STAMP)
	$(BIN)/pytest tests/shipping -n $(PYTEST_WORKERS) -p no:cacheprovider

## Benchmarks: ratios against baselines measured in the same run (see bench/README.md).
bench: $(STAMP)
	$(BIN)/python bench/run_all.py
	$(BIN)/python bench/plans_bench.py

docker-image: $(STAMP)
	bash scripts/build-postgres-image.sh

clean:
	rm -rf $(VENV) evidence .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
	rm -f src/cutover/sources/router_logs/_speedups*.so
