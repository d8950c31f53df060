# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Every target creates the virtual environment it needs (pip only, idempotent).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed

export PYTHONDONTWRITEBYTECODE := 1
export KERAS_BACKEND := tensorflow

.PHONY: help setup lab check test release-check run seeds bench site clean

help:
	@echo "make lab            open the lessons in JupyterLab (learners start here)"
	@echo "make check          unit tests only: the helper package, tools, committed files"
	@echo "make test           every test, as CI runs it: each lesson once in quick mode, the site"
	@echo "make release-check  slower checks: every lesson opened alone, the package index"
	@echo "make run            execute every lesson in full; refresh outputs, prose numbers,"
	@echo "                    figures, README table and the Try it page's models"
	@echo "                    (make run NOTEBOOKS=notebooks/03_*.ipynb runs only those)"
	@echo "make seeds          train B1-B7, C1, D1 with seeds 1, 2, 3 into figures/seeds.json"
	@echo "make bench          time every lesson (bfloat16 and float32) and the quick suite"
	@echo "make site           build the HTML course site into _site/"
	@echo "make clean          remove .venv, the built site and saved models"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

setup: $(STAMP)

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks

check: setup
	$(BIN)/python -m pytest -m "not slow and not release" tests

test: setup
	$(BIN)/python -m pytest

release-check: setup
	$(BIN)/python -m pytest -m release tests

run: setup
	$(BIN)/python -m tools.run_notebooks --times figures/notebook_times.json $(NOTEBOOKS)
	$(BIN)/python -m tools.export_models

seeds: setup
	$(BIN)/python -m tools.seeds
	$(BIN)/python -m tools.update_readme

bench: setup
	$(BIN)/python -m tools.bench
	$(BIN)/python -m tools.update_readme

site: setup
	$(BIN)/python -m tools.build_site

clean:
	rm -rf $(VENV) _site _build models
