# Guichet — the two commands: `make up` (whole stack, local) and `make test` (whole suite).
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: up down status test test-unit lint bench asyncapi

up:
	@deploy/local/stack.sh up

down:
	@deploy/local/stack.sh down

status:
	@deploy/local/stack.sh status

# Starts the stack if needed (idempotent), then runs every level of tests.
test: up
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
