# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO := .demo

.PHONY: install demo test lint bench fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p $(DEMO)
	$(PY) -m fixtures.generate --demo $(DEMO)
	$(VENV)/bin/vax probe $(DEMO)/sample.mp4
	$(VENV)/bin/vax extract $(DEMO)/sample.mp4 --overwrite
	$(VENV)/bin/vax extract $(DEMO)/sample.mp4 -f mp3 --start 0:01 --duration 3 --overwrite
	@echo "demo outputs are in $(DEMO)/"

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check extractor backends fixtures tests

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
