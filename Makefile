# The two commands of the README: `make demo` and `make test`. Both set up what they need.
.PHONY: demo test lint bench bench-api setup setup-dev

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

demo: setup
	.venv/bin/nestpatrol demo

test: setup-dev
	.venv/bin/python -m pytest

lint: setup-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench: setup-dev
	.venv/bin/python benchmarks/grid.py

# the API under load (PostGIS, 100,000 tickets, ~3 min); Locust comes with the bench extra
bench-api: setup-dev
	.venv/bin/python -c "import locust" 2>/dev/null || .venv/bin/python -m pip install --quiet -e ".[dev,bench]"
	.venv/bin/python benchmarks/api_load.py
