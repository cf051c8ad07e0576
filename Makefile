# `make run` starts the app, `make test` runs every test; each creates .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# This machine only by default; a workshop opts in to the network with `make run ADDRESS=0.0.0.0`.
ADDRESS ?= 127.0.0.1

.PHONY: run test lint bench assets clean class class-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-run pip only when a requirements file changes.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

# app.py serves studio.py (the pages) with the workspace cookie, the guards of ui/server/guards.py and the training engine.
run: $(VENV)/.runtime
	$(BIN)/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT)

# The layers first (pyproject.toml's [tool.importlinter] contracts): a wrong import fails in a second.
# Tests marked slow (the multi-replica class, 1-2 minutes) are left out: `make class-test` runs them (CI runs both).
test: $(VENV)/.dev
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m "not slow"

# A class on this machine: Dask scheduler, 2 workers, 2 replicas, HAProxy on http://127.0.0.1:8500 (see README).
class: $(VENV)/.runtime
	deploy/class.sh

# The multi-replica browser test through HAProxy (needs Debian's haproxy and chromium).
class-test: $(VENV)/.dev
	$(BIN)/python -m pytest -m slow tests/e2e/test_replicas.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(VENV)/.dev
	$(BIN)/python bench/trainer_speed.py
	$(BIN)/python bench/quality.py

# Rebuilds the bundled models from the real MNIST (see README). Every setting is spelled out (the ones in the
# files' metadata), so a change of the CLI's defaults leaves them as they are; with one thread a run gives the
# same weights every time. The denoisers: one per noise type, at the Denoise page's default level.
DENOISERS := gaussian:0.3 salt_pepper:0.2 dropout:0.3 block:0.4
assets: $(VENV)/.runtime
	for k in 2 8 32 64; do \
		$(BIN)/python -m model --latent-dim $$k --epochs 20 --batch-size 256 --lr 0.01 --seed 0 --threads 1 \
			--no-progress --out assets/models/k$$k.safetensors || exit 1; \
	done
	mkdir -p assets/models/denoisers
	for spec in $(DENOISERS); do \
		kind=$${spec%%:*}; level=$${spec##*:}; \
		$(BIN)/python -m model --latent-dim 32 --epochs 20 --batch-size 256 --lr 0.01 --seed 0 --threads 1 \
			--noise $$kind --noise-level $$level --no-progress \
			--out assets/models/denoisers/k32-$$kind.safetensors || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache
