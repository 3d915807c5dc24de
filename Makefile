# learntrace: `make run` serves the demo on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run install install-dev test lint bench messages clean

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

# The real OpenID Connect provider of the sign-in tests (npm oidc-provider, pinned by its lock file).
tests/oidc/node_modules/.package-lock.json: tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --silent

test: install-dev tests/oidc/node_modules/.package-lock.json
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python -m bench

# Needs GNU gettext (Debian: gettext). The compiled catalogue is committed. DATA_DIR keeps the
# keys that loading the settings generates in the ignored data/, not in the package.
messages: install
	cd src/learntrace && DATA_DIR=$(CURDIR)/data ../../$(BIN)/learntrace makemessages -l zh_Hans --no-obsolete --no-location \
		--ignore "static/*" && DATA_DIR=$(CURDIR)/data ../../$(BIN)/learntrace compilemessages -l zh_Hans

clean:
	rm -rf $(VENV)
