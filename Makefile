# Two commands do all set-up on a fresh machine:
#   make run   - create .venv, install CPU torch 2.13.0 first, then Sift with its extras, start the app
#   make test  - the same install, plus Debian chromium when absent, then lint and the whole test suite
VENV ?= .venv
PYTHON ?= python3
# Extra pip arguments for torch, e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
# on machines whose pip does not already resolve torch==2.13.0 to the CPU wheel.
TORCH_PIP_ARGS ?=
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sift-installed
# The onnx, onnx-int8 and static embedders' models, exported and distilled once into the environment
# (share/sift/models, read-only afterwards) so a fresh SIFT_HOME never pays for it on first use (minutes when busy).
MODELS_STAMP := $(VENV)/.sift-models
PORT ?= 8501

.PHONY: bench-check run test install models chromium lint bench bench-peers sample clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 $(TORCH_PIP_ARGS)
	$(PY) -m pip install --quiet -e '.[embed,fast,scale,test]'
	touch $(STAMP)

$(MODELS_STAMP): $(STAMP) analysis/space/fast_embedders.py
	$(PY) -m analysis.space.fast_embedders --prepare
	touch $(MODELS_STAMP)

install: $(STAMP) $(MODELS_STAMP)

models: $(MODELS_STAMP)

run: install
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

chromium:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; \
	fi

lint: install
	$(VENV)/bin/ruff check .

test: install chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

bench: install
	$(PY) bench/bench_load_browse.py
	$(PY) bench/bench_app.py
	$(PY) bench/bench_checks.py
	$(PY) bench/bench_sick.py

# Sift side by side with rensa, datasketch, SemHash and a plain n-gram baseline (bench/bench_peers.py, 10k rows;
# SIZES="100000" for the README figures). The peers are the `bench` extra, installed here only.
SIZES ?= 10000
bench-peers: install
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/bench_peers.py --sizes $(SIZES)

sample: install
	$(PY) sample_data/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Every bench script at its tiny size (6-8 min; kept out of `make test` to hold the suite near 20 min).
bench-check: install
	SIFT_BENCH_SCRIPTS=1 $(PY) -m pytest tests/bench -p no:cacheprovider
