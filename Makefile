# Guichet — the two commands: `make up` (whole stack, local) and `make test` (whole suite).
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: up down status browser test test-unit lint bench asyncapi

up:
	@deploy/local/stack.sh up

down:
	@deploy/local/stack.sh down

status:
	@deploy/local/stack.sh status

browser:
	@deploy/local/browser.sh

# Starts the stack if needed (idempotent), then runs every level of tests.
test: up browser
	$(PY) -m pytest

test-unit:
	@deploy/local/python.sh
	$(PY) -m pytest -m "unit or contract"

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy shared services

bench: up
	$(PY) -m bench

asyncapi:
	.venv/bin/guichet docs asyncapi --out docs/asyncapi
