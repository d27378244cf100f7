# deltarule — quick start: `make demo` and `make test` (only python3 and make needed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-floors lint bench clean

# The oldest Python deltarule runs on (requires-python in pyproject.toml).
MIN_PYTHON := 3.10
PYTHON_OK   = -c 'import sys; sys.exit(sys.version_info < tuple(map(int, "$(MIN_PYTHON)".split("."))))'

# The Python is checked before the venv is made, and a venv that could not be finished
# (no python3-venv, no network for pip) is removed: the next `make` starts afresh.
$(BIN)/python:
	@$(PYTHON) $(PYTHON_OK) 2>/dev/null || { \
	  echo "error: deltarule needs Python $(MIN_PYTHON) or newer; PYTHON=$(PYTHON) is" \
	    "$$($(PYTHON) --version 2>/dev/null || echo 'not found'). Choose another, e.g." \
	    "make $(or $(MAKECMDGOALS),demo) PYTHON=python3.12" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "error: $(PYTHON) -m venv failed (on Debian/Ubuntu: apt install python3-venv);" \
	    "the half-made $(VENV) was removed" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip || { rm -rf $(VENV); exit 1; }

# Each stamp records which extras are installed; it is redone when pyproject.toml changes.
# A venv made by a Python too old (before this check) is named, not used.
$(VENV)/.installed-cli: pyproject.toml | $(BIN)/python
	@$(BIN)/python $(PYTHON_OK) || { echo "error: $(VENV) was made by" \
	  "$$($(BIN)/python --version 2>&1); deltarule needs Python $(MIN_PYTHON) or newer." \
	  "Remove it (make clean) and rerun with PYTHON=python3.12 (or another 3.10+)" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet -e ".[cli]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@$(BIN)/python $(PYTHON_OK) || { echo "error: $(VENV) was made by" \
	  "$$($(BIN)/python --version 2>&1); deltarule needs Python $(MIN_PYTHON) or newer." \
	  "Remove it (make clean) and rerun with PYTHON=python3.12 (or another 3.10+)" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-cli

demo: $(VENV)/.installed-cli
	$(BIN)/deltarule train

test: $(VENV)/.installed-test
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/python -m pytest

# The suite under the lowest dependency versions pyproject.toml declares (not part of `make
# test`: a second venv, about 7 minutes on two cores, and a minute to install it). numpy 2.0
# needs Python 3.10 to 3.12.
FLOORS_PYTHON ?= python3.11
FLOORS_VENV   := .venv-floors
test-floors:
	test -x $(FLOORS_VENV)/bin/python || $(FLOORS_PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install --quiet -c .ci/floors-constraints.txt -e ".[test]"
	$(FLOORS_VENV)/bin/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/python -m ruff check src tests benchmarks

bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(FLOORS_VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
