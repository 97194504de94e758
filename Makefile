# Two commands a newcomer needs: `make app` and `make test`.
# VENV can point outside the checkout (CI reuses one under ~/.cache/kd-workbench).
VENV ?= .venv
PYTHON ?= python3
PORT ?= 8866
BIN := $(VENV)/bin
STAMP := $(VENV)/.kd-workbench-installed

.PHONY: app classroom board test test-gpu lab bench bench-gpu install teachers clean

install: $(STAMP)

# Reinstall only when the dependency list changed; an up-to-date venv costs seconds.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet --no-build-isolation -e '.[test]'
	@echo "$(CURDIR)" > $(STAMP)

# iopub_timeout: on a busy machine the app's display can reach Voila more than nbclient's
# default 4 s after its cell ends, and the page would stay blank.
VOILA := $(BIN)/voila notebooks/app.ipynb --no-browser --port $(PORT) --strip_sources=True --preheat_kernel=True \
  --VoilaExecutor.iopub_timeout=60

# One learner: a kernel is started and runs the app before the page is asked for.
app: install
	$(VOILA) --Voila.ip=127.0.0.1 --pool_size=1

# A class on one machine: POOL kernels kept ready, one per learner as they arrive (set it
# to how many arrive together), each used one replaced after FILL_DELAY s (so replacements
# do not compete with the arrivals for the cores), and culled after CULL_IDLE s without
# activity. HOST=0.0.0.0 serves the room's network. docs/classroom.md has the measurements.
POOL ?= 10
FILL_DELAY ?= 60
CULL_IDLE ?= 1200
HOST ?= 127.0.0.1
# The class board (workbench/board.py): each learner's finished runs, quiz answers and exercise
# checks, recorded from their kernel into one SQLite file (or a PostgreSQL URL) that `make board` reads.
BOARD ?= $(CURDIR)/class/board.sqlite
# Voila runs its kernels in notebooks/: a relative file path is made absolute here, a URL kept as it is
BOARD_URL = $(if $(findstring ://,$(BOARD)),$(BOARD),$(abspath $(BOARD)))
classroom: install
	KD_WORKBENCH_RECORD=1 KD_WORKBENCH_BOARD=$(BOARD_URL) \
	$(VOILA) --Voila.ip=$(HOST) --pool_size=$(POOL) --VoilaKernelManager.fill_delay=$(FILL_DELAY) \
	  --MappingKernelManager.cull_interval=60 --MappingKernelManager.cull_idle_timeout=$(CULL_IDLE) \
	  --MappingKernelManager.cull_connected=True

# The instructor's board page on BOARD_PORT, refreshing every few seconds. It opens only with its token:
# TOKEN (or a new random one each time) is printed in the link to open; keep it off the projector.
BOARD_PORT ?= 8867
board: install
	@token="$${TOKEN:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(16))')}"; \
	echo "The class board: http://$(if $(filter 0.0.0.0,$(HOST)),$$(hostname),$(HOST)):$(BOARD_PORT)/?token=$$token"; \
	KD_WORKBENCH_BOARD=$(BOARD_URL) KD_WORKBENCH_BOARD_TOKEN=$$token $(BIN)/voila notebooks/board.ipynb --no-browser \
	  --port $(BOARD_PORT) --Voila.ip=$(HOST) --strip_sources=True --VoilaExecutor.iopub_timeout=60

lab: install
	$(BIN)/jupyter lab notebooks/

test: install
	KD_WORKBENCH_STRICT=1 $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider --durations=25

# The engine's tests on the GPU: every test file that imports no widgets and no browser
# test (tests/test_gpu*.py among them), with the tests' default device and the shared
# digits and teacher fixtures on cuda (KD_WORKBENCH_TEST_DEVICE, tests/conftest.py).
# Notebooks are not run. Without a CUDA device: one line saying so, exit status 0.
UI_TESTS = $(shell grep -lE "^\s*(from|import) (widgets|test_browser|playwright)\b" tests/test_*.py)
ENGINE_TESTS = $(filter-out $(UI_TESTS),$(wildcard tests/test_*.py))
test-gpu: install
	@if $(BIN)/python -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
	  KD_WORKBENCH_STRICT=1 KD_WORKBENCH_TEST_DEVICE=cuda $(BIN)/python -m pytest $(ENGINE_TESTS) -p no:cacheprovider; \
	else echo "make test-gpu: skipped, no CUDA device on this machine (torch.cuda.is_available() is False)"; fi

# every part of the bench, one process each (bench/all.py): a part that fails is reported in the
# summary and the others still run; the exit status is non-zero if any part failed
bench: install
	$(BIN)/python bench/all.py

# MNIST and CIFAR-10 epochs on the GPU, hard-label and distilled (skips with one line without one)
bench-gpu: install
	$(BIN)/python bench/gpu.py

teachers: install
	$(BIN)/python -m workbench.teachers build
	$(BIN)/python -m workbench.llm build

clean:
	rm -rf $(VENV) build *.egg-info
