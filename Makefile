# Two commands on a fresh machine: `make serve` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per logical core; 0 runs the suite in this one (pdb, -x).
PYTEST_WORKERS ?= logical

.PHONY: serve test install install-dev lint format bench lock clean preview

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamp files: reinstall only when the dependency list or the lock changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

# The JavaScript clients the tests drive (tests/js: socket.io-client, ...), pinned by its
# package-lock.json. Installed only where npm is; without them those tests skip, and CI
# (PAPERWORKS_TEST_NODE=required) fails. `npm ci` empties node_modules first, stamp included.
JS := tests/js
NPM := $(shell command -v npm 2>/dev/null)

$(JS)/node_modules/.installed: $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install-dev: $(VENV)/.installed-dev $(if $(NPM),$(JS)/node_modules/.installed)
ifeq ($(NPM),)
	@echo "npm is not on the PATH: the JavaScript client tests (tests/js) will be skipped"
endif

serve: install
	$(BIN)/paperworks serve

lint: install-dev
	$(BIN)/ruff check src tests bench hatch_build.py
	$(BIN)/ruff format --check src tests bench hatch_build.py
	$(BIN)/mypy src
	$(BIN)/bandit -q -r src -c pyproject.toml

format: install-dev
	$(BIN)/ruff check --fix src tests bench hatch_build.py
	$(BIN)/ruff format src tests bench hatch_build.py

# pytest exits 5 when it collected nothing; an empty selection is not a failure.
# The tests are spread over PYTEST_WORKERS processes, each taking the next test as it finishes
# one (worksteal); every process has its own scratch databases and temporary folders.
test: lint
	$(BIN)/pytest --cov --cov-report=term -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS); \
	  rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

# Each prints its figures as ratios to an anchor measured in the same run. load runs 100 users
# against the service and a bare FastAPI app (SQLite, PostgreSQL + Redis, two workers). The job
# benchmarks need the machine's Redis (Celery's broker); job_crashes runs both runners. booklets compares
# with the qpdf and LibreOffice command lines where they are installed, and says so where not;
# extraction compares with camelot where it is installed (pip install -e '.[bench]').
bench: install-dev
	$(BIN)/python bench/http_overhead.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/jobs_throughput.py
	$(BIN)/python bench/job_crashes.py --backend local
	$(BIN)/python bench/job_crashes.py --backend celery
	$(BIN)/python bench/decks.py
	$(BIN)/python bench/assistant.py
	$(BIN)/python bench/booklets.py
	$(BIN)/python bench/extraction.py

# A few decks of the evaluation set (tests/decks/quality/) built offline to build/preview/*.pptx,
# and rendered to PNG (LibreOffice to PDF, pdftoppm to PNG) where both are installed.
preview: install-dev
	$(BIN)/python -m tests.decks.deck_quality build/preview

# Regenerate the lock after changing dependencies in pyproject.toml.
lock: $(BIN)/python
	$(PIP) install --quiet -e '.[dev]'
	$(PIP) freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) $(JS)/node_modules .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
