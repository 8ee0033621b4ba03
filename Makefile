# dlsim — common tasks. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= configs/lower-saxony-scenario-c.yaml
OUT    ?= out/default
# Debian's chromium: the report tests render in it and kaleido (PNG export) drives it.
CHROMIUM ?= /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: run whatif test lint typecheck fmt i18n bench docs verification validation reliability stress-interrupt optimise-guarantee calibration-check chromium clean help

help:
	@echo "make run   - set up .venv and simulate the default scenario into $(OUT)/"
	@echo "make whatif - simulate configs/whatif/planning-meeting.yaml into out/whatif/whatif.html"
	@echo "make test  - set up .venv with test extras and run lint + the whole test suite"
	@echo "             (installs Debian's chromium with apt-get when $(CHROMIUM) is missing)"
	@echo "make lint  - ruff + mypy"
	@echo "make i18n  - extract the messages into sim/report/locale/dlsim.pot and merge them"
	@echo "             into every language's .po (docs/translations.md); lists what is untranslated"
	@echo "make bench - performance benchmarks (not part of the tests)"
	@echo "make docs  - regenerate docs/reference/scenario.md and cli.md from the code"
	@echo "make verification - regenerate docs/verification.md (model vs Erlang-B/C, Little)"
	@echo "make validation - regenerate docs/validation.md (Jan 2021 replays vs reported figures)"
	@echo "make reliability - regenerate docs/reliability.md (bad input, interruptions, faults)"
	@echo "make stress-interrupt - Ctrl-C at STRESS_N (50) random moments of each long command"
	@echo "make optimise-guarantee - measure dlsim optimise's 95 % guarantee (docs/optimise.md)"
	@echo "make calibration-check - the recovery check of dlsim calibrate (docs/calibration.md)"

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
	$(BIN)/dlsim run $(CONFIG) --out $(OUT) --force  # out/default is make's own: replace it

# The planning meeting's what-if page (240 runs at 5 % scale; resumes if interrupted)
whatif: $(VENV)/.installed-run
	$(BIN)/dlsim whatif --grid configs/whatif/planning-meeting.yaml --out out/whatif --workers 2

# Only the tests need a browser (headless report rendering, PNG export); `make run` does not.
# kaleido is always given this path, so it never tries to download a browser of its own.
$(CHROMIUM):
	@echo "$(CHROMIUM) not found: installing Debian's chromium (report tests, --png)"
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

chromium: $(CHROMIUM)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

typecheck: lint

test: $(VENV)/.installed-test lint $(CHROMIUM)
	DLSIM_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q

fmt: $(VENV)/.installed-test
	$(BIN)/ruff format sim tests benchmarks
	$(BIN)/ruff check --fix .

# The generated references (tests/unit/test_reference_docs.py checks they are up to date)
docs: $(VENV)/.installed-run
	$(BIN)/python -m sim.config.schema_doc docs/reference/scenario.md
	$(BIN)/python -m sim.cli.help_doc docs/reference/cli.md

# The translations (docs/translations.md): the template from the code, each .po merged with it;
# exit 1 listing what a translator still has to do (new, changed or untranslated messages)
i18n: $(VENV)/.installed-run
	$(BIN)/python -m sim.report.catalogues update

verification: $(VENV)/.installed-test
	$(BIN)/python -m sim.experiments.verification --out docs/verification.md

# VALIDATION_JOBS runs at a time (processes; the runs are independent, the document the same)
VALIDATION_JOBS ?= 2
validation: $(VENV)/.installed-test
	nice -n 5 $(BIN)/python -m sim.experiments.validation --out docs/validation.md --jobs $(VALIDATION_JOBS)

# docs/reliability.md: the bad-input corpus and the tests marked `reliability`, with outcomes
reliability: $(VENV)/.installed-test $(CHROMIUM)
	DLSIM_CHROMIUM=$(CHROMIUM) $(BIN)/python -m tests.reliability

# Ctrl-C at STRESS_N random moments of each long command (tests/stress_interrupt.py): exit 130,
# nothing half-written. Minutes, not part of `make test`.
STRESS_N ?= 50
stress-interrupt: $(VENV)/.installed-test
	nice -n 10 $(BIN)/python -m tests.stress_interrupt --n $(STRESS_N) \
		--record benchmarks/results/stress-interrupt.json

# docs/optimise.md: 50 independent seeds of the whole optimise procedure on two loss systems
# (one with margin, one close call); CPU heavy, so niced, on 2 processes
optimise-guarantee: $(VENV)/.installed-test
	nice -n 10 $(BIN)/python -m tests.optimise_guarantee 50 2

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run $(if $(BENCH_BASE),--base $(BENCH_BASE))

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

# The recovery check of `dlsim calibrate` (simulation-based calibration, pre-registered in
# docs/calibration.md): targets from a run at the priors' medians must be covered by the
# posterior wherever they identify an input. Resumes from out/calibration-check/ if killed.
calibration-check: $(VENV)/.installed-run
	$(BIN)/python -m sim.uncertainty.recovery --out out/calibration-check --workers 2
