# The targets are what the README tells people to type.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test unit reliability fuzz lint format bench clean deploy-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/whistle up

test: $(STAMP)
	$(BIN)/python -m pytest

# The pure-logic tests alone (no database, no broker): seconds.
unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

# The fault suite at full length (30 s outages, more load); `make test` runs its short profile.
reliability: $(STAMP)
	WHISTLE_RELIABILITY=full $(BIN)/python -m pytest tests/reliability -o timeout=900

# Property-based API testing of the four services at length (`make test` runs 8 examples per operation).
fuzz: $(STAMP)
	WHISTLE_FUZZ_EXAMPLES=200 $(BIN)/python -m pytest tests/e2e/test_openapi_fuzz.py -o timeout=3600 -s

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/whistle bench

clean:
	rm -rf .whistle

# Needs promtool (Debian package `prometheus`).
deploy-check:
	cd deploy/prometheus && promtool check rules rules.yml && promtool test rules rules_test.yml
