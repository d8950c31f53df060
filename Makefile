# Two commands do all set-up on a fresh machine: `make test` and `make run`.
# Every target creates the virtual environment it needs (pip only, idempotent).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed

export PYTHONDONTWRITEBYTECODE := 1
export KERAS_BACKEND := tensorflow

.PHONY: help setup test run lab site bench clean

help:
	@echo "make test   set up .venv, then run every test (notebooks in quick mode)"
	@echo "make run    execute every notebook in full; refresh outputs, figures, README table"
	@echo "make lab    open the course in JupyterLab"
	@echo "make site   build the HTML course site into _site/"
	@echo "make bench  time every notebook's full run and the quick test suite"

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

setup: $(STAMP)

test: setup
	$(BIN)/python -m pytest

run: setup
	$(BIN)/python tools/run_notebooks.py --times figures/notebook_times.json $(NOTEBOOKS)
	$(BIN)/python tools/update_readme.py

bench: setup
	$(BIN)/python tools/bench.py
	$(BIN)/python tools/update_readme.py

lab: setup
	$(BIN)/jupyter lab notebooks

site: setup
	$(BIN)/python tools/build_site.py

clean:
	rm -rf $(VENV) _site _build models
