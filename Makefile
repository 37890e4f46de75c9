# Nguồn — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in emails and feeds: the address the server runs on unless WAGTAILADMIN_BASE_URL is set.
BASE_URL ?= http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

.PHONY: install run test lint format translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml player/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -e ./player
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/python manage.py compile_translations

# Migrate, load demo data (idempotent), then serve portal + admin with a Celery worker and
# beat on the embedded filesystem broker. Ctrl-C stops everything. Another port:
# `make run PORT=8080` (HOST=0.0.0.0 to reach it from the network).
run: translations
	$(BIN)/python manage.py migrate --noinput
	WAGTAILADMIN_BASE_URL="$${WAGTAILADMIN_BASE_URL:-$(BASE_URL)}" $(BIN)/python manage.py load_demo
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# The whole suite. DATABASE_URL / CELERY_BROKER_URL / ELASTICSEARCH_URL select real services.
test: translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/ .pytest_cache
