# Everything runs inside .venv, created from the pinned versions in requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv with the pinned dependencies (fast when nothing changed)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

run: $(STAMP) ## the main job: the Telegram bot if TELEGRAM_BOT_TOKEN is set, else the console chat
	$(BIN)/briefbot run

test: lint ## lint, type-check and run the test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP) ## ingest and question-latency benchmarks; writes docs/benchmarks.md
	$(BIN)/python -m bench.run

.PHONY: bench-answers
bench-answers: $(STAMP) ## ours against the tutorial RAG and the sentence picker, on both halves of the seed, news and SQuAD sets
	$(BIN)/python -m bench.answers

clean: ## remove the venv and the local index
	rm -rf $(VENV) .data
