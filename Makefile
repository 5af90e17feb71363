# Two commands do all the set-up: `make run` and `make test`.
# Each creates (or refreshes, when pyproject.toml changed) the local virtualenv
# in .venv on first use; a second call does not reinstall.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench docker-smoke clean

# With a terminal: the guided advisor. Without one (CI, a pipe): a scripted demo, one
# example use case, its recommendation and a short training run ending with its metrics.
run: $(STAMP)
	@if test -t 0; then $(BIN)/advisor recommend; else $(BIN)/advisor demo; fi

# Two test processes, each file whole in one (its module fixtures train once): most tests
# wait on a single thread, so two halve the time even on a 2-core machine.
test: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

lint: $(STAMP)
	$(BIN)/python -m ruff check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Builds Dockerfile.gpu here and runs recipes, predict, --resume and two workers inside it
# (root and docker needed; no GPU needed or checked). Not part of `make test`.
docker-smoke:
	scripts/docker-smoke.sh

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --editable ".[test]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
