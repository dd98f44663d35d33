# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DB ?= tracker.duckdb
FIXTURES := fixtures/seeds/articles.jsonl fixtures/scenarios/outlets.jsonl

.PHONY: run test install clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Ingest the fixture articles (idempotent) and serve the dashboard on localhost.
run: $(STAMP)
	$(BIN)/tracker ingest $(FIXTURES) --db $(DB)
	$(BIN)/tracker dashboard --db $(DB)

# The browser tests need Debian's Chromium; without it they are skipped with a reason.
test: $(STAMP)
	sh scripts/ensure-chromium.sh || echo "Chromium could not be installed: browser tests will be skipped"
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) tracker.duckdb tracker.duckdb.wal
