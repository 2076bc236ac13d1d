# The two commands a new user needs (see README):
#   make demo   set up, load demo content and accounts, run the site on SQLite
#   make test   set up and run the whole test suite against PostgreSQL
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/clinic)
# pytest-xdist workers, each with a PostgreSQL test database of its own (test_clinic_gw0, ...); whole files
# go to one worker, so a file's servers and fixtures never race each other.
TEST_WORKERS ?= 2

DEMO_ENV := DEBUG=1 DATABASE_URL=sqlite:///demo.sqlite3 SITE_URL=http://$(HOST):$(PORT)
TEST_ENV := DEBUG=0 SECRET_KEY=test-only-secret-key-not-for-production-6c1d0f3a9b8e7d2c5a4f SECURE_SSL_REDIRECT=0 \
	DATABASE_URL=$(TEST_DATABASE_URL)

.PHONY: demo test lint setup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

setup: $(VENV)/.runtime

demo: $(VENV)/.runtime
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo "Starting the site at http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/, review desk: http://$(HOST):$(PORT)/review/). Stop it with Ctrl-C."
	$(DEMO_ENV) $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

lint: $(VENV)/.dev
	$(BIN)/ruff check .

test: $(VENV)/.dev
	bash .ci/system-packages
	$(BIN)/ruff check .
	@# Models against migration files only: no database is needed (nor warned about) for this check.
	$(TEST_ENV) DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) staticfiles demo.sqlite3
