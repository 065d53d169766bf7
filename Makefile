# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO := .demo

.PHONY: install demo test lint graph bench bench-remote fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# An editable install ships no bytecode, and with PYTHONDONTWRITEBYTECODE set every vax run
	@# would compile its modules again (about 60 ms of a 3-minute copy); a wheel install has them.
	$(PY) -m compileall -q -j 0 extractor backends fixtures >/dev/null
	touch $(STAMP)

# The same demo an installed wheel gives (`vax demo`): a sample clip, probed and extracted three ways.
demo: $(STAMP)
	$(VENV)/bin/vax demo $(DEMO)

test: $(STAMP)
	$(PY) -m pytest -rs

lint: $(STAMP)
	$(VENV)/bin/ruff check extractor backends fixtures tests tools
	$(VENV)/bin/lint-imports
	$(PY) tools/importgraph.py --cycles

# The project's import graph, module by module, and its cycles (none allowed).
graph: $(STAMP)
	$(PY) tools/importgraph.py

# Side-by-side benchmarks against Debian's ffmpeg CLI (the reference, installed here if missing),
# moviepy and pydub; inputs are cached in ~/.cache/vax-bench. Writes benchmarks/RESULTS.md.
# A part of it: BENCH_ARGS="--only goals" (or case names; --list shows them; --quick: fewer rounds).
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@command -v ffmpeg >/dev/null || { SUDO=$$( [ "$$(id -u)" -ne 0 ] && echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq ffmpeg; }
	$(PY) -m benchmarks.run $(BENCH_ARGS)
	$(PY) -m benchmarks.report

# `vax bench --remote` against the fake NemoVideo server with a simulated network (SIMULATED figures;
# nothing leaves the machine). Network options and vax bench options: BENCH_REMOTE_ARGS="--rounds 5".
bench-remote: $(STAMP)
	$(PY) -m tests.fakenemo $(BENCH_REMOTE_ARGS)

# Coverage-guided fuzzing of probe and extract (atheris); outside the test suite's time budget.
# Findings (inputs that crash, hang or leave files) land in .fuzz/artifacts/.
FUZZ_SECONDS ?= 300

fuzz: $(STAMP)
	$(PY) -m pip install --quiet 'atheris>=2.3'
	$(PY) fuzz/atheris_harness.py -max_total_time=$(FUZZ_SECONDS) -timeout=30 -rss_limit_mb=2048 $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
