# learntrace: `make run` serves the demo on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run install install-dev test lint bench mutate messages clean

$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.lock
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $@

install: $(BIN)/.installed

install-dev: $(BIN)/.installed-dev

run: install
	$(BIN)/learntrace migrate --noinput
	$(BIN)/learntrace demo --if-empty
	$(BIN)/learntrace serve

test: install-dev
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests bench

bench: install-dev
	$(BIN)/python -m bench

# Mutation testing of the core modules, one mutant at a time (docs/testing.md): MODULE=checkin for one.
mutate: install-dev
	$(BIN)/python scripts/mutate.py $(MODULE)

# Needs GNU gettext (Debian: gettext). The compiled catalogue is committed.
messages: install
	cd src/learntrace && DATA_DIR=$(CURDIR)/data ../../$(BIN)/learntrace makemessages -l zh_Hans --no-obsolete --no-location \
		--ignore "static/*" && DATA_DIR=$(CURDIR)/data ../../$(BIN)/learntrace compilemessages -l zh_Hans

clean:
	rm -rf $(VENV)
