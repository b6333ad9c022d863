# Two commands on a fresh machine:  `make run` (install + launch the app)  and  `make test` (install + all tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 7860

.PHONY: run test bench chromium train evaluate clean

$(VENV)/.app: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.app requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.app
	$(PY) app.py --host 127.0.0.1 --port $(PORT)

# Debian's chromium for the browser tests (Playwright's own browser download cannot work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(VENV)/.dev chromium
	$(PY) -m pytest

bench: $(VENV)/.dev
	$(PY) -m bench

evaluate: $(VENV)/.dev
	$(PY) scripts/evaluate.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache
