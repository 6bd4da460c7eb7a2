# mirrormanager: `make run` sets everything up and starts the web app and a queue worker;
# `make test` sets up and runs the whole test suite.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint format setup setup-test migrate demo clean help

help:
	@echo "make run    - set up .venv, migrate, seed the demo network, start web app + queue worker"
	@echo "make test   - set up .venv with test extras and run the whole test suite"
	@echo "make lint   - ruff check and format check, and the import layers (import-linter)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml client/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet -e client/
	touch $@ $(VENV)/.installed

# The compiled mirrorlist lookup, rebuilt when its source changes and tried again while it is missing; when it
# cannot be built (no C compiler) the Python lookup serves and make goes on.
FASTSELECT := mirrors/mirrorlist/engine/_fastselect$(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
$(FASTSELECT): mirrors/mirrorlist/engine/_fastselect.pyx mirrors/mirrorlist/engine/build_fast.py | $(VENV)/.installed
	-$(BIN)/python -m mirrors.mirrorlist.engine.build_fast

setup: $(VENV)/.installed $(FASTSELECT)
setup-test: $(VENV)/.installed-test $(FASTSELECT)

migrate: setup
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py demo

run: demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python -m mirrormanager.devserver --host $(HOST) --port $(PORT)

test: setup-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: setup-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var/static .pytest_cache mirrors/mirrorlist/engine/_fastselect.*.so
