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
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "SupportFlow needs Python 3.11 or newer; python3 is $$(python3 --version 2>&1)." >&2; exit 1; }
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU build of torch first, so sentence-transformers does not pull a multi-GB CUDA build.
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# Changing the knowledge base is a knowledge editor's action: here the demo editor kim (app/config/reviewers.yaml).
# Only when the help centre changed since the last ingest (a stamp in the data directory), so `make run` starts fast.
INGESTED := $(SUPPORT_DATA_DIR)/.ingested-sample
ingest: setup $(INGESTED)
	# The sample shop the desk acts in (docs/shop.md): seeded once, so a demo's refunds stay refunded.
	$(PY) -m app shop seed app/shop/fixtures/brightwave.json --if-empty

$(INGESTED): $(shell find knowledge/sample -type f 2>/dev/null) | setup
	SUPPORT_REVIEWER_TOKEN=demo-kim $(PY) -m app ingest knowledge/sample --reviewer kim
	@mkdir -p $(SUPPORT_DATA_DIR) && touch $@

# The console starts in the background; the URL is printed once a first (headless) session has loaded the models.
run: ingest
	@echo "  Starting the console and loading the models (about 15 s)…"
	@SUPPORT_DEMO_MODE=true $(VENV)/bin/streamlit run streamlit_app.py $(STREAMLIT_FLAGS) > $(SUPPORT_DATA_DIR)/console.log 2>&1 & \
	pid=$$!; trap 'kill $$pid 2>/dev/null' INT TERM EXIT; \
	$(PY) -m app.ui.warm http://127.0.0.1:$(PORT) || true; \
	echo ""; \
	echo "  SupportFlow console: open http://localhost:$(PORT) in your browser (data: $(SUPPORT_DATA_DIR))."; \
	echo "  Team pages: http://localhost:$(PORT)/workspace, /review, /operations, /knowledge."; \
	echo "  Sign in as a demo customer: cus-1001 (password demo-cus-1001), cus-1002, cus-1003 (demo-<id>)."; \
	echo "  Sign in to the team pages as agent/reviewer ana (token demo-ana), bo (demo-bo); knowledge editor kim."; \
	echo "  Demo mode: anyone at the console may pick a demo customer without a password. For demos only."; \
	echo "  Log: $(SUPPORT_DATA_DIR)/console.log. Ctrl-C stops the console."; \
	echo ""; \
	wait $$pid

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The documentation (docs/, mkdocs.yml) into .site/. Not -q: with it, mkdocs 1.6 --strict no longer fails on a warning.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -d .site

# The full suite takes about 35 minutes on 2 cores; pytest prints how far it is ([  412/1850]) as it goes.
test: lint docs
	@echo "Running the full test suite: about 35 minutes on a 2-core machine (make test-fast: unit tests, ~1 min)."
	$(PY) -m pytest -q -o console_output_style=count

# While working: ruff and the unit tests only (tests/unit/: no data dir, no model, no server, no subprocess).
test-fast: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q tests/unit

studio: setup
	$(VENV)/bin/langgraph dev --no-browser --port 2025

clean:
	rm -rf $(VENV) .support-data .site
