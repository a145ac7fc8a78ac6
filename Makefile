# Two commands for a newcomer: `make lab` and `make test`.
# Both create the environment first if needed: an active virtualenv or conda
# environment (other than conda's base) is used as it is; otherwise a .venv is
# made with the newest supported Python found (python3.13, python3.12, python3.11,
# then python3 if it is one of those) and filled with pip, at the exact versions
# of constraints.txt. PYTHON3=/path/to/python3.12 names the interpreter instead.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
JUPYTER_PORT ?= 8888
JUPYTER_IP ?= 127.0.0.1

ifneq ($(strip $(VIRTUAL_ENV)),)
  ACTIVE_ENV := $(VIRTUAL_ENV)
else ifneq ($(filter-out base,$(CONDA_DEFAULT_ENV)),)
  ACTIVE_ENV := $(CONDA_PREFIX)
endif

ifdef ACTIVE_ENV
  BIN := $(ACTIVE_ENV)/bin/
  ENV_READY := $(ACTIVE_ENV)/.discrete-latent-gradients-ready
else
  BIN := $(VENV)/bin/
  ENV_READY := $(VENV)/.ready
endif
PYTHON := $(BIN)python

# TensorFlow 2.21 has wheels for Python 3.11-3.13 only.
SUPPORTED_PYTHONS := 3.13 3.12 3.11
# The first candidate that runs and reports a supported version (a command can exist
# and still fail, e.g. a pyenv shim for a version that is not selected). Expanded
# only when .venv is made.
PYTHON3 ?= $(shell for p in $(addprefix python,$(SUPPORTED_PYTHONS)) python3; do \
	v=$$($$p -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) && \
	case " $(SUPPORTED_PYTHONS) " in (*" $$v "*) echo $$p; break;; esac; done)
define NO_PYTHON
No supported Python found: the series needs Python 3.11, 3.12 or 3.13 (TensorFlow
has no wheels for other versions), and none of python3.13, python3.12, python3.11 or
python3 is one. Install one of them, or name it: make lab PYTHON3=/path/to/python3.12
endef
export NO_PYTHON
# Exact versions in the .venv the Makefile makes; an active environment keeps its own.
CONSTRAINTS := $(if $(ACTIVE_ENV),,-c constraints.txt)
# Jupyter refuses to run as root unless told to (containers, CI machines).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# TensorFlow's load-time log lines off, and oneDNN off for reproducible numbers.
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED := 0

.PHONY: help env lab test test-browser test-install lint unit outputs badges bench vae-rates student \
	html html-student clean mutants

help:
	@echo "make lab      open JupyterLab on the notebooks (port \$$JUPYTER_PORT, default 8888)"
	@echo "make test     lint, unit and statistical tests, every notebook under nbval"
	@echo "make test-browser  run every notebook in JupyterLab in headless chromium"
	@echo "make test-install  install as readers do (Colab's versions, Binder, no make); network"
	@echo "make outputs  re-execute every notebook in place (refresh stored outputs)"
	@echo "make badges   rewrite Binder/Colab badges and links from pyproject.toml"
	@echo "make bench    time the estimators and the notebooks (not part of make test)"
	@echo "make vae-rates  choose notebook 10's learning rates on a validation split (minutes)"
	@echo "make mutants  mutation testing of helpers/ against the unit tests (slow; resumable)"
	@echo "make student  student copies (solutions emptied, outputs cleared) in student/"
	@echo "make html     the notebooks and README as a static site in _site/ (for instructors)"
	@echo "make html-student  the same site without solutions, for students, in student/site/"

env: $(ENV_READY)

$(ENV_READY): pyproject.toml constraints.txt
ifndef ACTIVE_ENV
	@test -x $(PYTHON) || { test -n "$(PYTHON3)" || { echo "$$NO_PYTHON" >&2; exit 1; }; \
		echo "$(PYTHON3) -m venv $(VENV)"; $(PYTHON3) -m venv $(VENV); }
endif
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[lab,test]" $(CONSTRAINTS)
	@touch $@

# The repository root is served, so that every relative link works (the notebooks'
# "Series index" is ../README.md); the lab opens on the notebooks folder.
lab: env
	$(BIN)jupyter lab --no-browser --ip=$(JUPYTER_IP) --port=$(JUPYTER_PORT) $(ALLOW_ROOT) \
		--ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks

lint: env
	$(BIN)ruff check .
	$(BIN)ruff format --check .

unit: env
	$(PYTHON) -m pytest tests

# The tests run without network where Linux allows it (tools/offline.sh).
test: lint
	tools/offline.sh $(PYTHON) -m pytest

BROWSER_READY := $(dir $(ENV_READY)).browser-ready

$(BROWSER_READY): $(ENV_READY)
	tools/install_browser.sh
	$(PYTHON) -m pip install --quiet -e ".[lab,test,browser]" $(CONSTRAINTS)
	@touch $@

test-browser: $(BROWSER_READY)
	tools/offline.sh $(PYTHON) -m pytest -m browser tests/browser

# Installs into new environments from the package index, so it needs the network:
# Colab's TensorFlow and NumPy, Binder's packages and postBuild, and the README's
# commands without make in a fresh clone.
test-install: env
	$(PYTHON) -m pytest -m install tests/install

outputs: env
	$(PYTHON) tools/execute_notebooks.py notebooks/[0-9]*.ipynb
	$(PYTHON) tools/readme_figure.py

badges: env
	$(PYTHON) tools/badges.py

student: env
	$(PYTHON) tools/student.py student

html: env
	$(PYTHON) tools/site.py _site

html-student: env
	$(PYTHON) tools/site.py --student student/site

bench: env
	$(PYTHON) -m pip install --quiet -e ".[bench]" $(CONSTRAINTS)
	$(PYTHON) benchmarks/run.py
	$(PYTHON) tools/badges.py

vae-rates: env
	$(PYTHON) benchmarks/vae_rates.py

MUTANTS_READY := $(dir $(ENV_READY)).mutants-ready

$(MUTANTS_READY): $(ENV_READY)
	$(PYTHON) -m pip install --quiet -e ".[lab,test,mutants]" $(CONSTRAINTS)
	@touch $@

# Mutation testing of helpers/ against the unit tests not marked slow (settings in
# pyproject.toml, [tool.mutmut]). helpers/ has several thousand mutants, hours of
# work on 2 cores, so by default a uniform random sample of SAMPLE of them (fixed by
# SEED) is checked and the kill rate of all of helpers/ is bounded from it; SAMPLE=
# (empty) checks every mutant, MUTANTS="helpers.stats*" only those. Results are kept
# in mutants/, so a stopped run goes on where it stopped. JOBS=n runs n workers.
# Prints the kill rate and every surviving mutant.
JOBS ?= 1
SAMPLE ?= 400
SEED ?= 8
mutants: $(MUTANTS_READY)
	nice -n 19 $(PYTHON) tools/mutants.py --jobs $(JOBS) \
		$(or $(MUTANTS),$(if $(SAMPLE),--sample $(SAMPLE) --seed $(SEED)))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info student _site artifacts mutants
