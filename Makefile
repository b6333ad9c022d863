# Two commands on a fresh machine:  `make run` (install + launch the app)  and  `make test` (install + all tests).
SHELL := /bin/bash
# Python 3.12: what the Space card asks for (ZeroGPU offers 3.10.13 and 3.12.12); python3 when there is none.
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12) python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 7860

.PHONY: run test bench chromium train evaluate screenshots clean

$(VENV)/.app: requirements.txt
	@# a venv of another Python (an older checkout's) is made anew
	@if ! { test -x $(PY) && [ "$$($(PY) -c 'import sys; print(sys.version_info[:2])')" = \
	        "$$($(PYTHON) -c 'import sys; print(sys.version_info[:2])')" ]; }; then \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); fi
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

# every model of demos/keypoints/registry.py, one after the other (6-9 minutes each on 2 cores), then the table
train: $(VENV)/.dev
	for m in $$($(PY) -c "from demos.keypoints import MODELS; print(' '.join(MODELS))"); do \
	  $(PY) scripts/train.py --model $$m || exit 1; done
	$(PY) scripts/evaluate.py

# rewrites pretrained/evaluation.json, README.md's table, its findings and every model card
evaluate: $(VENV)/.dev
	$(PY) scripts/evaluate.py
	$(PY) scripts/readme_numbers.py

# docs/screenshots/: every tab in presentation mode at 1280x720 and 1920x1080, and README's table of tabs
screenshots: $(VENV)/.dev chromium
	$(PY) scripts/screenshots.py
	$(PY) scripts/readme_tabs.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache
