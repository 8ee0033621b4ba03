# dlsim — common tasks. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= configs/lower-saxony-scenario-c.yaml
OUT    ?= out/default

.PHONY: run test lint typecheck fmt bench verification clean help

help:
	@echo "make run   - set up .venv and simulate the default scenario into $(OUT)/"
	@echo "make test  - set up .venv with test extras and run lint + the whole test suite"
	@echo "make lint  - ruff + mypy"
	@echo "make bench - performance benchmarks (not part of the tests)"
	@echo "make verification - regenerate docs/verification.md (model vs Erlang-B/C, Little)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when the project's metadata changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/dlsim run $(CONFIG) --out $(OUT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/mypy

typecheck: lint

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -q

fmt: $(VENV)/.installed-test
	$(BIN)/ruff format sim tests benchmarks
	$(BIN)/ruff check --fix sim tests benchmarks

verification: $(VENV)/.installed-test
	$(BIN)/python -m sim.verification --out docs/verification.md

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
