# Everything runs inside .venv, created from the pinned versions in requirements.lock (what the
# image runs) and requirements-dev.lock (test tools and what the image leaves out).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench bench-large clean image-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv with the pinned dependencies (fast when nothing changed)

$(STAMP): pyproject.toml requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements.lock -c requirements-dev.lock -e '.[dev]'
	touch $@

run: $(STAMP) ## the main job: the Telegram bot if TELEGRAM_BOT_TOKEN is set, else the console chat
	$(BIN)/briefbot run

test: lint ## lint, type-check and run the test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff (lint and format check), mypy, the locks against requires-python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy docker/locks.py
	$(BIN)/python docker/locks.py check

bench: $(STAMP) ## every benchmark at 1k and 10k passages; writes docs/benchmarks.md and its plots
	$(BIN)/python -m bench.run

bench-large: $(STAMP) ## the same, and 100k passages (about 15 minutes)
	$(BIN)/python -m bench.run --large

.PHONY: bench-answers
bench-answers: $(STAMP) ## ours against the tutorial RAG and the sentence picker, on both halves of the seed, news and SQuAD sets
	$(BIN)/python -m bench.answers

# Not part of `make test`: needs root, podman and debootstrap (../shared/docs/containers.md).
image-test: $(STAMP) ## build the image (base from Debian packages) and test it with podman
	$(BIN)/python -m tests.image.run

clean: ## remove the venv and the local index
	rm -rf $(VENV) .data
