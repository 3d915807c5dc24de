# learntrace: `make run` serves the demo on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run install install-dev test lint bench mutate messages clean

# python-ldap (LDAP sign-in, directory sync) compiles against OpenLDAP's and SASL's headers:
# installed here when missing on a Debian machine run as root, otherwise named.
$(BIN)/.installed: pyproject.toml requirements.lock
	@test -f /usr/include/ldap.h -a -f /usr/include/sasl/sasl.h || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing libldap2-dev libsasl2-dev (for python-ldap)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libldap2-dev libsasl2-dev >/dev/null; \
	  else echo "python-ldap needs OpenLDAP's and SASL's headers: apt-get install libldap2-dev libsasl2-dev" >&2; exit 1; fi; }
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

# axe-core, the accessibility checks run in the browser tests' pages (pinned by its lock file).
tests/axe/node_modules/.package-lock.json: tests/axe/package.json tests/axe/package-lock.json
	cd tests/axe && npm ci --no-audit --no-fund --silent

test: install-dev tests/oidc/node_modules/.package-lock.json tests/axe/node_modules/.package-lock.json
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python -m bench

# Mutation testing of the core modules, one mutant at a time (docs/testing.md): MODULE=checkin for one.
mutate: install-dev
	$(BIN)/python scripts/mutate.py $(MODULE)

# Needs GNU gettext (Debian: gettext). The compiled catalogue is committed. DATA_DIR keeps the
# keys that loading the settings generates in the ignored data/, not in the package.
messages: install
	cd src/learntrace && DATA_DIR=$(CURDIR)/data ../../$(BIN)/learntrace makemessages -l zh_Hans --no-obsolete --no-location \
		--ignore "static/*" && DATA_DIR=$(CURDIR)/data ../../$(BIN)/learntrace compilemessages -l zh_Hans

clean:
	rm -rf $(VENV)
