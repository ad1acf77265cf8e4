# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned and installed first: sdv needs it, and pip would otherwise resolve a
# multi-gigabyte CUDA build on a CPU-only machine.
TORCH := torch==2.13.0

.PHONY: install demo test cdk-synth bench lint

$(BIN)/synthcare: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/synthcare

install: $(BIN)/synthcare

demo: install
	$(BIN)/synthcare run sample:diabetes --out synthcare-demo

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

node_modules/.bin/cdk: package.json
	npm install --no-audit --no-fund --silent
	touch node_modules/.bin/cdk

cdk-synth: install node_modules/.bin/cdk
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet

bench: install
	$(BIN)/python bench/compare_models.py

lint: install
	$(BIN)/ruff check .
