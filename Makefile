# Atelier — the two ways in are `make run` and `make test` (see README.md).
#
# PYTHON may be given (make test PYTHON=/usr/bin/python3.13); otherwise a Python >= 3.12 found on PATH (3.12,
# the tested version, first), then through pyenv (lowest 3.12+ first), is used to create .venv.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
VENV_PY := $(VENV)/bin/python
PYTEST_ARGS ?=

# Prints the path of a Python >= 3.12, or nothing.
define FIND_PYTHON
ok() { "$$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }; \
if [ -n "$(PYTHON)" ]; then ok "$(PYTHON)" && command -v "$(PYTHON)"; exit 0; fi; \
for c in python3.12 python3 python python3.13 python3.14; do \
  p=$$(command -v $$c 2>/dev/null) && ok "$$p" && { echo "$$p"; exit 0; }; \
done; \
if command -v pyenv >/dev/null 2>&1; then \
  for v in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?$$' | sort -V); do \
    p="$$(pyenv root)/versions/$$v/bin/python"; ok "$$p" && { echo "$$p"; exit 0; }; \
  done; \
fi
endef

.PHONY: help run test lint audit bench setup python-check node-check clean

help:
	@echo "make run    set up everything and start Atelier on http://127.0.0.1:8000"
	@echo "make test   set up and run the whole test suite this machine can run"
	@echo "make lint   ruff (check and format --check) and bandit"
	@echo "make audit  pip-audit of the installed dependencies (needs the network)"
	@echo "make bench  run the benchmarks in bench/"

python-check:
	@py="$$( $(FIND_PYTHON) )"; \
	if [ -z "$$py" ]; then \
	  echo "Atelier needs Python >= 3.12: install it (or pyenv install 3.12), or pass PYTHON=/path/to/python3.12" >&2; \
	  exit 1; \
	fi

node-check:
	@command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
	  || { echo "Atelier needs Node.js >= 20 (for the local anvil chain): install it from nodejs.org or your package manager" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml | python-check
	@py="$$( $(FIND_PYTHON) )"; \
	if [ ! -x $(VENV_PY) ]; then echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(VENV_PY) -m pip install --quiet --upgrade pip
	$(VENV_PY) -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json | node-check
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.installed node_modules/.installed
	@mkdir -p var

run: setup
	@$(VENV_PY) manage.py runstack --check-ports
	$(VENV_PY) manage.py migrate --noinput
	$(VENV_PY) manage.py bootstrap_demo
	$(VENV_PY) manage.py runstack

# Two pytest-xdist workers by default (TEST_WORKERS=0 runs in one process): much of the suite waits on subprocesses,
# browsers and the chain, so two share a 2-core machine well. worksteal keeps the long stack tests from queueing.
TEST_WORKERS ?= 2

test: setup
	$(VENV_PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r config core marketplace generation provenance -x '*/migrations/*'

# Needs the network (it asks PyPI's vulnerability data about every pinned package), so it is not part of lint.
audit: $(VENV)/.installed
	$(VENV)/bin/pip-audit --strict --progress-spinner off

bench: setup
	$(VENV_PY) -m bench.inference
	$(VENV_PY) -m bench.training
	$(VENV_PY) -m bench.provenance
	$(VENV_PY) -m bench.api
	$(VENV_PY) -m bench.media

clean:
	rm -rf var/test-db.sqlite3 .pytest_cache .ruff_cache
