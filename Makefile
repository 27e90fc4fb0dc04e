# igkg: two commands for a new user: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
IGKG    = $(VENV)/bin/igkg
STORE  ?= ./igkg-data
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test install install-test bench clean docs

# pyradiomics 3.0.1 ships only an sdist whose build needs numpy and versioneer present:
# install those first, then build it without isolation, then the project itself.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip "setuptools>=68" wheel
	$(PIP) install --quiet "numpy>=1.26,<3" versioneer
	$(PIP) install --quiet --no-build-isolation "pyradiomics==3.0.1"
	$(PIP) install --quiet -e ".[test,bench]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m examples.demo --store $(STORE) --host $(HOST) --port $(PORT)

test: install
	bash scripts/system-deps.sh
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

bench: install
	$(PY) -m compileall -q kg loaders queries bench  # byte-code once, as an installed package has it
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(STORE) igkg-figures build *.egg-info
