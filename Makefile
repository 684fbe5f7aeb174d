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

.PHONY: demo test lint bench clean-venv verl-check wheel-check

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

# make wheel-check: build the wheel (`python -m build`: an sdist, then the wheel from it), install
# it in a fresh venv and use it as a newcomer would, outside the checkout: validate a shipped
# task, init one, plan the paper preset, evaluate the embedded base on 2 GSM8K items (../shared
# present). The venv gets torch and llama-cpp-python from pip's caches (the local torch wheel, the
# llama.cpp build cached by the first install: `pip cache list llama_cpp_python`) and the GGUF
# the main venv prepared; not the 1.7 GB of embedded model chunks, which only assemble it.
WHEEL_VENV ?= .venv-wheel
WHEEL_TMP := $(abspath .wheel-check)

wheel-check: $(STAMP)
	rm -rf dist $(WHEEL_VENV) $(WHEEL_TMP)
	$(BIN)/python -m build --outdir dist . >/dev/null
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install -q torch==2.13.0
	$(WHEEL_VENV)/bin/python -m pip install -q "$$(ls dist/synthrl-*.whl)" 'llama-cpp-python>=0.3.16,<0.4'
	$(BIN)/synthrl models prepare base --no-hf >/dev/null
	mkdir -p $(WHEEL_TMP)
	cd $(WHEEL_TMP) && export SYNTHRL_BENCHMARKS=$(abspath ../shared/benchmarks) \
	  && W=$(abspath $(WHEEL_VENV))/bin \
	  && $$W/synthrl --version \
	  && $$W/synthrl validate "$$($$W/python -c 'from synthrl.shipped import example_task; print(example_task("gsm8k"))')" \
	  && $$W/synthrl init demo --from gsm8k >/dev/null \
	  && $$W/synthrl validate demo.yaml \
	  && COLUMNS=160 $$W/synthrl plan demo.yaml --preset paper \
	  && $$W/synthrl eval embedded:base --bench gsm8k --limit 2 --preset cpu
	rm -rf $(WHEEL_TMP)

clean-venv:
	rm -rf $(VENV)
