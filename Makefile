# make demo: create .venv, install everything, run the pipeline on the embedded defaults.
# make test: create .venv if needed, run the test suite.
# Installs are idempotent: a stamp keyed on pyproject.toml skips them when nothing changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
# llama-cpp-python compiles llama.cpp on install. A native build on a CPU with AMX (Sapphire
# Rapids, as here) uses ggml's AMX matmul, which crashed with SIGSEGV on the first decode
# (llama-cpp-python 0.3.36); a portable AVX2 build avoids it at ~7% of single-stream speed.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
export PIP_DISABLE_PIP_VERSION_CHECK = 1
# Tests and the demo never download from a model hub (the embedded models come from PyPI).
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1

.PHONY: demo test lint bench clean-venv verl-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: a CPU build that lies on local disk here (a bare `torch` pulls CUDA).
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev,embedded]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/synthrl models prepare
	$(BIN)/synthrl run examples/tasks/gsm8k.yaml --preset cpu --out runs/demo
	$(BIN)/synthrl status runs/demo
	$(BIN)/synthrl report runs/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script --quick || exit 1; done

# make verl-check: check `synthrl export verl` against veRL itself, on CPU (not part of `make
# test`). veRL pins transformers<5.11, so it lives in its own venv with synthrl installed
# --no-deps (synthrl.answers needs only math-verify beyond veRL's own deps). Point VERL_VENV at
# an existing veRL venv to reuse it.
VERL_VENV ?= .venv-verl
VERL_PY := $(VERL_VENV)/bin/python
VERL_STAMP := $(VERL_VENV)/.installed-synthrl

$(VERL_STAMP): pyproject.toml
	test -x $(VERL_PY) || $(PYTHON) -m venv $(VERL_VENV)
	$(VERL_PY) -m pip install -q torch==2.13.0
	$(VERL_PY) -m pip install -q verl==0.9.1 'math-verify>=0.7,<1'
	$(VERL_PY) -m pip install -q --no-deps -e .
	touch $(VERL_STAMP)

verl-check: $(STAMP) $(VERL_STAMP)
	SYNTHRL_VERL_PYTHON=$(abspath $(VERL_PY)) $(BIN)/python -m pytest -q -rs tests/verl_compat

clean-venv:
	rm -rf $(VENV)
