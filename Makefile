# `make run` starts the app, `make test` runs every test; each creates .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# This machine only by default; a workshop opts in to the network with `make run ADDRESS=0.0.0.0`.
ADDRESS ?= 127.0.0.1

.PHONY: run test lint bench assets clean

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

# serve.py is app.py behind two guards (ui/guards.py): /_stcore/metrics private, over-long links explained.
run: $(VENV)/.runtime
	$(BIN)/streamlit run serve.py --server.address $(ADDRESS) --server.port $(PORT)

test: $(VENV)/.dev
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .

bench: $(VENV)/.dev
	$(BIN)/python bench/trainer_speed.py
	$(BIN)/python bench/quality.py

# Rebuilds the bundled default models from the real MNIST (see README).
assets: $(VENV)/.runtime
	for k in 2 8 32 64; do \
		$(BIN)/python -m model.train --latent-dim $$k --epochs 30 --no-progress --out assets/models/k$$k.safetensors || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
