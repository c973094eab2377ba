# One-command setup: a fresh machine needs only Python 3.11+; uv comes from pip when missing,
# and uv never downloads a Python of its own (it uses the one that is there).
export UV_PYTHON_DOWNLOADS := never

PYTHON ?= python3
# uv from PATH, else the one pip put in this Python's (user) site-packages, else ~/.local/bin.
# Recursive (=) on purpose: evaluated again after `uv-bootstrap` installed it.
UV = $(shell command -v uv 2>/dev/null \
	|| ($(PYTHON) -m uv --version >/dev/null 2>&1 && echo "$(PYTHON) -m uv") \
	|| (test -x "$(HOME)/.local/bin/uv" && echo "$(HOME)/.local/bin/uv"))

.DEFAULT_GOAL := help
.PHONY: help uv-bootstrap install dev test lint fmt bench

help:
	@echo "make dev     run the whole stack locally (PostgreSQL, Temporal, api, worker)"
	@echo "make test    run the test suite"
	@echo "make lint    ruff check, ruff format --check and mypy --strict"
	@echo "make fmt     format the code"
	@echo "make bench   run the benchmarks (make bench ARGS=--quick)"

uv-bootstrap:
	@if [ -z "$(UV)" ]; then \
		echo "uv not found: installing it with pip (user site)"; \
		$(PYTHON) -m pip install --user --quiet uv \
		|| $(PYTHON) -m pip install --user --quiet --break-system-packages uv \
		|| pip install --quiet uv; \
	fi

install: uv-bootstrap
	@test -n "$(UV)" || { echo "uv could not be installed: see https://docs.astral.sh/uv/"; exit 1; }
	$(UV) sync --frozen

dev: install
	$(UV) run shopstar-marketing dev

test: install
	$(UV) run pytest

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy --strict .
	$(UV) run lint-imports

fmt: install
	$(UV) run ruff format .
	$(UV) run ruff check --fix --select I .

bench: install
	$(UV) run python -m bench $(ARGS)
