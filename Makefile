# Rabita's set-up and checks. Every target makes and uses the local virtual environment .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOGS := $(wildcard core/translations/*/LC_MESSAGES/*.po federation/translations/*/LC_MESSAGES/*.po \
                      plugins/*/translations/*/LC_MESSAGES/*.po)
COMPILED := $(CATALOGS:.po=.mo)
RABITA_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export RABITA_TEST_POSTGRES_URL
# The suite imports every module in each worker and in each node process it starts, and
# pytest rewrites each test module's asserts: compiled once and kept in __pycache__ (ignored
# by git), not again on every run, as an environment with PYTHONDONTWRITEBYTECODE would have
# it (this machine's has: make test-fast took 177 s with it, 152 s without).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo demo-codes run test test-fast lint catalogs extract bench leakcheck clean axe

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

catalogs: $(COMPILED)

## make axe: axe-core for the browser tests' accessibility check, from its npm package (pinned
## in tests/axe/package-lock.json) into tests/axe/node_modules: the tests read it, no network
AXE := tests/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	npm ci --prefix tests/axe --no-audit --no-fund --ignore-scripts --silent
	touch $@

axe: $(AXE)

## make demo: a hub and three nodes on 127.0.0.1 (Tunisia, Egypt, one with no country
## plugin), paired and syncing every few seconds, with fictional data and demo accounts
## (printed); Ctrl-C stops them; .demo/ is reused
demo: $(STAMP) catalogs
	$(BIN)/python -m tools.demo

demo-codes: $(STAMP)
	$(BIN)/python -m tools.demo codes

## make run: serve the instance in ./instance (create it first with `rabita init`)
run: $(STAMP) catalogs
	$(BIN)/rabita run --host 127.0.0.1 --port 5000

## make test: the whole test suite (SQLite, PostgreSQL, Chromium) on two workers (pytest-xdist):
## 15-26 minutes on a 2-core machine (docs/performance.md), twice that on one; then the linter
test: $(STAMP) catalogs $(AXE)
	$(BIN)/pytest -n 2 --durations=25
	$(BIN)/ruff check .

## make test-fast: the edit loop — every test but the slow and browser ones, on SQLite (their
## PostgreSQL runs are `make test`'s), one worker per core (pytest-xdist); then the linter
test-fast: $(STAMP) catalogs
	$(BIN)/pytest -m "not slow and not browser and not postgresql" -n auto -q
	$(BIN)/ruff check .

## make leakcheck: 1,000 cases written as documenters write, redacted for every audience;
## prints the table of what leaked, by category (targets: docs/confidentiality.md)
leakcheck: $(STAMP) catalogs
	$(BIN)/python -m bench.leakcheck --cases 1000

## make bench: every benchmark (long: the cases and sync ones generate 100,000 records once)
bench: $(STAMP) catalogs
	$(BIN)/python -m bench.redaction
	$(BIN)/python -m bench.audit
	$(BIN)/python -m bench.cases
	$(BIN)/python -m bench.sync
	$(BIN)/python -m bench.signin
	$(BIN)/python -m bench.exports
	$(BIN)/python -m bench.signing

lint: $(STAMP)
	$(BIN)/ruff check .

## make extract: refresh every package's message catalogs after changing user-facing strings
extract: $(STAMP)
	$(BIN)/python -m tools.catalogs update

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .artifacts .demo
	find . -name '*.mo' -delete
