# The two commands a new user needs: `make run` and `make test`. Both set up the venv first.
# Python 3.11, 3.12 or 3.13 (pyproject.toml's requires-python): the first of them found, or
# PYTHON=python3.13 make run. A venv made by another Python, or whose Python no longer runs, is
# rebuilt. `make run` installs what the server needs; `make test` adds the test and bench tools.
SUPPORTED := 3.11 3.12 3.13
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3.11 python3.12 python3.13 python3; do \
	$$p -c '' 2>/dev/null && { echo $$p; break; }; done)
PYTHON := $(or $(PYTHON),python3.11)
endif
VENV ?= .venv
BIN := $(VENV)/bin

# X.Y of $(PYTHON), and of the venv's python (empty if it is missing, does not run, or lacks pip).
want := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
have := $(shell $(BIN)/python -c 'import sys, pip; print("%d.%d" % sys.version_info[:2])' \
	2>/dev/null)

# setuptools prints a banner about editable installs on every install: nothing to act on.
PIP := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet
why = $(if $(have),was made by Python $(have),is broken (its python does not run or has no pip))

.PHONY: run test lint install clean FORCE

# The venv; made anew (pyvenv.cfg with it), everything is installed again.
$(VENV)/pyvenv.cfg: $(if $(and $(want),$(filter $(want),$(have))),,FORCE)
	@$(PYTHON) -c '' || { echo "make: '$(PYTHON)' does not run. Parley needs Python" \
	  "$(SUPPORTED): install one, or name it: PYTHON=python3.12 make ..." >&2; exit 1; }
	@case " $(SUPPORTED) " in *" $(want) "*) ;; *) echo "make: $(PYTHON) is Python $(want);" \
	  "Parley needs $(SUPPORTED): PYTHON=python3.12 make ..." >&2; exit 1;; esac
	@if [ -e $(VENV) ]; then echo "$(VENV) $(why): rebuilding it with $(PYTHON) ($(want))"; fi
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(PIP) --upgrade pip

$(VENV)/.installed-run: pyproject.toml $(VENV)/pyvenv.cfg
	$(PIP) -e .
	touch $@

# tests/bench runs a smoke test of the benchmark, so the tests need its tools too.
$(VENV)/.installed-test: pyproject.toml $(VENV)/pyvenv.cfg
	$(PIP) -e '.[test,bench]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/python wsgi.py

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .venv .venv3* instance .pytest_cache

FORCE:
