# Two commands on a fresh machine: `make demo` (set up + run the main job on the seeds), `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.warta-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: setup labelstudio-server demo test bench clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_QUIET) -c requirements.lock -e '.[test]' 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(BIN)/python -c "import dataset, annotation, scripts.cli"
	rm -f $(VENV)/.warta-* && touch $@

labelstudio-server: setup
	$(BIN)/warta labelstudio install

demo: labelstudio-server
	$(BIN)/python -m scripts.demo

test: labelstudio-server
	bash scripts/browser_setup.sh
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python scripts/bench.py

# Stops the local Label Studio first, then deletes the demo outputs and the server's data dir: every
# annotation made on the local server goes with it.
clean:
	test ! -x $(BIN)/warta || $(BIN)/warta labelstudio stop
	rm -rf out .labelstudio
