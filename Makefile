# Two commands: `make run` (set up, ingest the sample KB, open the chat) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: setup run ingest lint test studio bench-retrieval clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU build of torch first, so sentence-transformers does not pull a multi-GB CUDA build.
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

ingest: setup
	$(PY) -m app ingest knowledge/sample

run: ingest
	$(VENV)/bin/streamlit run streamlit_app.py --server.port $(PORT) --server.headless true

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest -q

studio: setup
	$(VENV)/bin/langgraph dev --no-browser --port 2025

clean:
	rm -rf $(VENV) .support-data
