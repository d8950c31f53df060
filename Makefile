# Two commands do all set-up on a fresh machine: `make test` and `make run`.
# Every target creates the virtual environment it needs (pip only, idempotent).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed

export PYTHONDONTWRITEBYTECODE := 1
export KERAS_BACKEND := tensorflow

# A relative folder setting means the folder as seen from where make was called (the
# shell's PWD, which `make -C` keeps), not from notebooks/, where the kernels run.
absolute = $(if $(filter /% ~%,$(1)),$(1),$(abspath $(or $(PWD),$(CURDIR))/$(1)))
FOLDER_SETTINGS := COURSE_DATA_DIR COURSE_SHAPES_DIR COURSE_OUTPUT_DIR
$(foreach setting,$(FOLDER_SETTINGS),$(if $($(setting)),\
  $(eval override $(setting) := $(call absolute,$($(setting))))$(eval export $(setting))))

.PHONY: help setup check test run seeds lab site bench clean

help:
	@echo "make check   unit tests only: the helper package, tools and committed files"
	@echo "make test    every test, as CI runs it: notebooks in quick mode, the site in a browser"
	@echo "make run     execute every notebook in full; refresh outputs, figures, README table"
	@echo "             make run NOTEBOOKS=notebooks/03_mnist_first_cnn.ipynb  runs only those"
	@echo "make seeds   train B1-B7, C1, D1 with seeds 1, 2, 3: three full runs of lessons 02-07"
	@echo "             into figures/seeds.json and the README table"
	@echo "make lab     open the course in JupyterLab (also as root, in a container)"
	@echo "make site    build the HTML course site into _site/"
	@echo "make bench   time every notebook's full run and the quick test suite"
	@echo "make setup   only create .venv and install the requirements and coursekit"
	@echo "make clean   remove .venv, the built site and saved models"
	@echo "Folder settings (COURSE_DATA_DIR=..., COURSE_SHAPES_DIR=..., COURSE_OUTPUT_DIR=...)"
	@echo "may be relative: they are taken from the folder make was called from."

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

setup: $(STAMP)

check: setup
	$(BIN)/python -m pytest -m "not slow" tests

test: setup
	$(BIN)/python -m pytest

run: setup
	$(BIN)/python -m tools.run_notebooks --times figures/notebook_times.json $(NOTEBOOKS)
	$(BIN)/python -m tools.update_readme

seeds: setup
	$(BIN)/python -m tools.seeds
	$(BIN)/python -m tools.update_readme

bench: setup
	$(BIN)/python -m tools.bench
	$(BIN)/python -m tools.update_readme

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks

site: setup
	$(BIN)/python -m tools.build_site

clean:
	rm -rf $(VENV) _site _build models
