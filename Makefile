# One command each: `make demo` runs the main job on the embedded demo, `make test` runs
# the linter, the type checker and the tests. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= reports/demo

.PHONY: demo test lint bench clean wheels

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/workbench demo --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check workbench tests benchmarks
	$(BIN)/ruff format --check workbench tests benchmarks
	$(BIN)/mypy

# Debian's chromium for the browser test (tests/test_browser.py): apt-get when missing.
.PHONY: chromium
chromium:
	.ci/install-chromium

test: lint chromium
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_magic.py
	$(BIN)/python benchmarks/bench_analysis.py
	$(BIN)/python benchmarks/bench_overhead.py
	$(BIN)/python benchmarks/bench_store.py
	$(BIN)/python benchmarks/bench_experiment.py
	$(BIN)/python benchmarks/bench_sampling.py
	$(BIN)/python benchmarks/bench_lines.py
	$(BIN)/python benchmarks/bench_whatif.py
	$(BIN)/python benchmarks/bench_route_dispatch.py
	$(BIN)/python benchmarks/bench_calibrate.py
	$(BIN)/python benchmarks/bench_tuner.py
	$(BIN)/python benchmarks/bench_experts.py
	$(BIN)/python benchmarks/bench_route_oracle.py

# The dataset a Kaggle notebook installs from with the internet off: our wheel and every
# dependency as cp312 manylinux wheels (pip installs only what the image lacks or has too old).
WHEELS := dist/wheels
wheels: $(STAMP)
	rm -rf $(WHEELS) && mkdir -p $(WHEELS)
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir $(WHEELS) .
	$(BIN)/python -m pip download --quiet --only-binary=:all: --python-version 3.12 \
		--implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
		--platform manylinux2014_x86_64 --dest $(WHEELS) "$$(ls $(WHEELS)/workbench-*.whl)[viz]"
	cp kaggle/dataset-metadata.json $(WHEELS)/
	ls $(WHEELS)

clean:
	rm -rf $(VENV) reports build dist *.egg-info
