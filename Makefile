# Two commands a newcomer needs: `make app` and `make test`.
# VENV can point outside the checkout (CI reuses one under ~/.cache/kd-workbench).
VENV ?= .venv
PYTHON ?= python3
PORT ?= 8866
BIN := $(VENV)/bin
STAMP := $(VENV)/.kd-workbench-installed

.PHONY: app test lab bench install teachers clean

install: $(STAMP)

# Reinstall only when the dependency list changed; an up-to-date venv costs seconds.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet --no-build-isolation -e '.[test]'
	@echo "$(CURDIR)" > $(STAMP)

app: install
	$(BIN)/voila notebooks/app.ipynb --no-browser --port $(PORT) --Voila.ip=127.0.0.1 --strip_sources=True

lab: install
	$(BIN)/jupyter lab notebooks/

test: install
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

bench: install
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/bench_app.py
	$(BIN)/python bench/bench_llm.py
	$(BIN)/python bench/bench_collapse.py

teachers: install
	$(BIN)/python -m workbench.teachers build
	$(BIN)/python -m workbench.llm build

clean:
	rm -rf $(VENV) build *.egg-info
