# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SDK_VENV := .venv-sdk
SDK_STAMP := $(SDK_VENV)/.installed

.PHONY: run test lint format bench install system-packages clean

run: $(STAMP)
	$(PY) scripts/run.py

test: $(STAMP) $(SDK_STAMP) system-packages
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(VENV)/bin/pytest tests/bench -p no:cacheprovider -o addopts="" -q -s

install: $(STAMP)

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

# Headless Chromium and CJK fonts for the browser tests (Debian packages).
system-packages:
	@bash scripts/system_packages.sh

clean:
	rm -rf $(VENV) $(SDK_VENV) data .pytest_cache .ruff_cache
