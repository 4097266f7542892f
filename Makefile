# `make` sets everything up and builds the guide; `make test` runs the tests.
# Set-up is idempotent: Debian packages are installed only when missing, the
# venv and node_modules only when their lock files change.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip --disable-pip-version-check --quiet

.DEFAULT_GOAL := build
.PHONY: build test check bench setup system clean ci

setup: system $(VENV)/.installed node_modules/.installed

system:
	@bash scripts/setup-system.sh

$(VENV)/.installed: requirements.lock
	python3 -m venv $(VENV)
	$(PIP) install -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

build: setup
	$(PY) build.py --variant all

test: setup
	$(PY) -m pytest
	$(PY) build.py check -q --variant all

check: setup
	$(PY) build.py check --variant all

# The pull-request job (.github/workflows/pull-request.yml runs only this):
# set up, diff --rev against the base, check, job summary and PR comment.
ci:
	bash scripts/ci.sh

# The benchmark's anchors (pandoc 3.9, typst-py) come from PyPI into
# .cache/bench-tools, for the benchmark only: never into the venv or the lock.
BENCH_TOOLS := .cache/bench-tools

$(BENCH_TOOLS)/.installed: bench/requirements.txt
	rm -rf $(BENCH_TOOLS)
	$(PIP) install --target $(BENCH_TOOLS) -r bench/requirements.txt
	touch $@

bench: setup $(BENCH_TOOLS)/.installed
	$(PY) bench/run.py

clean:
	rm -rf dist .pytest_cache
