# Fresh machine: `make demo` (installs, then runs the whole job on the bundled samples into out/)
#                `make test` (installs, then runs the test suite).
PY := .venv/bin/python
OUT ?= out

.PHONY: setup demo test bench fuzz check-image clean

setup:
	bash scripts/setup.sh

demo: setup
	$(PY) -m pipeline.run --output=$(OUT)

# Two worker processes, each test file whole in one of them (--dist loadfile: module fixtures run once).
test: setup
	$(PY) -m pytest -q -n 2 --dist loadfile tests

# Coverage-guided fuzzing of every reader (fuzz/run.py); FUZZ_SECONDS per harness, or until
# FUZZ_RUNS inputs when set (`make fuzz FUZZ_RUNS=1000000 FUZZ_SECONDS=5400`: the figures of docs/benchmarks.md).
FUZZ_SECONDS ?= 300
FUZZ_RUNS ?=
fuzz: setup
	$(PY) -m fuzz.run --seconds $(FUZZ_SECONDS) $(if $(FUZZ_RUNS),--runs $(FUZZ_RUNS)) --report fuzz/report.json

# Every benchmark (bench/bench_*.py: CPU seconds, min and median of >= 3 runs, each a few minutes on
# 2 quiet cores) into bench/results/*.json, then the tables of docs/benchmarks.md from those files. A run that
# starts at a load average above the number of cores says so in its output and in its table.
bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
	$(PY) bench/bench_commoncrawl.py --corpus sidebar
	$(PY) -m bench.tables

# The Dockerfile's install in a fresh virtualenv standing in for the image's Python (no Docker
# engine needed; minutes: every pip package and the KenLM build). The parse alone is in `make test`.
check-image: setup
	$(PY) scripts/check_image.py

clean:
	rm -rf $(OUT) .pytest_cache fuzz/.corpus fuzz/crashes
