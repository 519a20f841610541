# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SDK_VENV := .venv-sdk
SDK_STAMP := $(SDK_VENV)/.installed
DMS_SDK_VENV := .venv-dms-sdk
DMS_SDK_STAMP := $(DMS_SDK_VENV)/.installed

.PHONY: run test lint audit format bench install messages extract-messages system-packages clean

run: $(STAMP) messages
	$(PY) scripts/run.py

test: $(STAMP) $(SDK_STAMP) $(DMS_SDK_STAMP) system-packages messages
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory audit

# Known vulnerabilities in the installed dependencies (PyPI's advisory data, or OSV with
# AUDIT_SERVICE=osv). --strict: a package that could not be checked fails the audit.
AUDIT_SERVICE ?= pypi
audit: $(STAMP)
	$(VENV)/bin/pip-audit --strict --skip-editable --progress-spinner off \
	  --vulnerability-service $(AUDIT_SERVICE) --desc on

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks, printed and written to data/bench-relay-<config>.md: once on the embedded defaults,
# once on the local PostgreSQL and Redis (both must be running, as .ci/run starts them).
bench: $(STAMP)
	@status=0; \
	pytest='$(VENV)/bin/pytest tests/bench -p no:cacheprovider -o addopts= -q -s'; \
	echo "== Benchmarks on the embedded defaults =="; \
	$$pytest || status=1; \
	echo "== Benchmarks on PostgreSQL and Redis =="; \
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='studio'" \
	  | grep -q 1 || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE studio" || status=1; \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio REDIS_URL=redis://127.0.0.1:6379/2 \
	  CHANNELS_PREFIX=bench $$pytest || status=1; \
	exit $$status

install: $(STAMP)

# The compiled Chinese catalogue Django reads, rebuilt when the .po changes; babel's compiler is
# pure Python, so no GNU gettext is needed. The .mo is not committed.
CATALOGUE := locale/zh_Hans/LC_MESSAGES/django
messages: $(CATALOGUE).mo

$(CATALOGUE).mo: $(CATALOGUE).po | $(STAMP)
	$(VENV)/bin/pybabel compile --domain django --directory locale --locale zh_Hans --statistics

# After changing user-visible strings: merge them into the .po, then translate the empty ones.
extract-messages: $(STAMP)
	$(PY) -m project.catalogue

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The official Xingchen SDK pins pydantic 1, so it lives in its own virtualenv; the
# compatibility tests run it against the simulator.
$(SDK_STAMP):
	test -x $(SDK_VENV)/bin/python || $(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/python -m pip install --quiet 'xingchen==1.1.5' requests sseclient-py 'urllib3<2.1'
	touch $(SDK_STAMP)

# The official DMS SDK (Tea stack, requests, aiohttp) stays out of the app; the DMS
# compatibility tests run it against the DMS simulator.
$(DMS_SDK_STAMP):
	test -x $(DMS_SDK_VENV)/bin/python || $(PYTHON) -m venv $(DMS_SDK_VENV)
	$(DMS_SDK_VENV)/bin/python -m pip install --quiet 'alibabacloud-dms-enterprise20181101==3.0.0'
	touch $(DMS_SDK_STAMP)

# Headless Chromium and CJK fonts for the browser tests (Debian packages).
system-packages:
	@bash scripts/system_packages.sh

clean:
	rm -rf $(VENV) $(SDK_VENV) $(DMS_SDK_VENV) data .pytest_cache .ruff_cache
