# ArtDash — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT   ?= 8501

.PHONY: run serve test bench bench-scale install db demo lint types docs reference fuzz clean walk

$(BIN)/python:
	@echo "Creating the virtual environment in $(VENV)…"
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing ArtDash and what it needs into $(VENV) (the first time: a few minutes, offline afterwards)…"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,vw]'
	# gbstats is the tests' independent reference for artdash.stats; it pins numpy<2 and pandas<2,
	# which the parts the tests use do not need, so it goes in without its dependencies
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps 'gbstats==0.8.0'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

## install: create .venv and install ArtDash with its development tools
install: $(STAMP)

## db: apply database migrations (and seed the default taxonomy)
db: install
	$(BIN)/artdash db upgrade

## demo: load the demo catalog (skips titles already there)
demo: db
	$(BIN)/artdash demo

## run: set up, migrate, load demo content on first run, serve on http://localhost:8501
## (no file watching: the server does not scan .venv/ and the media store; restart it after a code change)
run: db
	$(BIN)/artdash demo --if-empty
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address localhost --server.fileWatcherType none

## serve: set up, migrate, and run the decision service on http://127.0.0.1:8600 (API docs at /docs;
## requests need a key: .venv/bin/artdash keys create NAME)
serve: db
	$(BIN)/artdash serve --port 8600

## test: set up, check style, layering and types, and run the whole suite on $(TEST_WORKERS) workers (browser and
## Spark tests each on one worker; the 25 slowest are listed at the end; pytest's exit code 5, "no tests ran", fails too)
TEST_WORKERS ?= 3
test: install lint types docs
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25 $(PYTEST_ARGS)

## docs: build the docs site into site/ (--strict: a broken link or a page missing from the navigation fails)
docs: install
	$(BIN)/mkdocs build --strict --quiet

## reference: write docs/cli-reference.md again from the commands (a test fails while it is stale)
reference: install
	$(BIN)/python -m artdash.cli.reference > docs/cli-reference.md

## types: mypy (strict for stats, ope, policy, simulator, results; basic elsewhere: see pyproject.toml)
types: install
	$(BIN)/mypy

## fuzz: explore the property tests with many new random examples; every failure found is written
## into tests/test_fuzz.py as an @example (so it stays covered), then fix the cause
fuzz: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'hypothesis[codemods,ghostwriter]'
	rm -rf .hypothesis/patches
	-ARTDASH_FUZZ_EXAMPLES=$${ARTDASH_FUZZ_EXAMPLES:-3000} CI= $(BIN)/python -m pytest tests/test_fuzz.py -q
	@for p in .hypothesis/patches/*.patch; do [ -e "$$p" ] || continue; git apply "$$p" && echo "kept the failures of $$p as @example"; done

## bench: run the benchmarks; results go to bench/out/ (see bench/RESULTS.md)
bench: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,vw,bench]'
	$(BIN)/python bench/upload.py
	$(BIN)/python bench/policy.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/results.py
	$(BIN)/python bench/spark.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/ope.py
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/decision.py
	$(BIN)/python bench/stats.py
	$(BIN)/python bench/discover.py

## bench-scale: 100M impressions on one machine (≈ 25 min, ≈ 6 GB under bench/out), reported once in bench/RESULTS.md
bench-scale: install
	$(BIN)/python bench/scale.py

## lint: ruff, and the import-linter contracts (layers point down; streamlit only in artdash.ui; no circles)
lint: install
	$(BIN)/ruff check artdash screens tests bench scripts app.py
	$(BIN)/lint-imports

## walk: screenshot every page of an app running on $(PORT), at 1024 and 1600 px, into test-artifacts/walk
walk: install
	$(BIN)/python scripts/walk.py http://localhost:$(PORT) test-artifacts/walk

clean:
	rm -rf $(VENV) *.egg-info test-artifacts bench/out
