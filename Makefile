# Two commands: `make run` (set up, ingest the sample KB, serve the console) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# State lives here unless SUPPORT_DATA_DIR says otherwise (the CLI and the console read the same variable).
export SUPPORT_DATA_DIR ?= .support-data
# Offline and quiet: no usage statistics, no file watcher (it floods the log on big trees), no Deploy button.
STREAMLIT_FLAGS := --server.port $(PORT) --server.headless true --server.fileWatcherType none \
	--browser.gatherUsageStats false --client.toolbarMode minimal

.PHONY: setup run ingest lint docs test test-fast studio bench-retrieval clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU build of torch first, so sentence-transformers does not pull a multi-GB CUDA build.
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# Changing the knowledge base is a knowledge editor's action: here the demo editor kim (app/config/reviewers.yaml).
ingest: setup
	SUPPORT_REVIEWER_TOKEN=demo-kim $(PY) -m app ingest knowledge/sample --reviewer kim
	# The sample shop the desk acts in (docs/shop.md): seeded once, so a demo's refunds stay refunded.
	$(PY) -m app shop seed app/shop/fixtures/brightwave.json --if-empty

run: ingest
	@echo ""
	@echo "  SupportFlow console: open http://localhost:$(PORT) in your browser (data: $(SUPPORT_DATA_DIR))"
	@echo "  Demo mode: anyone at the console may pick a demo customer without a password. For demos only."
	@echo ""
	SUPPORT_DEMO_MODE=true $(VENV)/bin/streamlit run streamlit_app.py $(STREAMLIT_FLAGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The documentation (docs/, mkdocs.yml) into .site/. Not -q: with it, mkdocs 1.6 --strict no longer fails on a warning.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -d .site

test: lint docs
	$(PY) -m pytest -q

# While working: ruff and the unit tests only (tests/unit/: no data dir, no model, no server, no subprocess).
test-fast: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q tests/unit

studio: setup
	$(VENV)/bin/langgraph dev --no-browser --port 2025

clean:
	rm -rf $(VENV) .support-data .site
