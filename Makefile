# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test setup bench bench-million messages check-deploy clean backup restore pace requirements audit

# Runtime (requirements.txt, what a server installs) and development (requirements-dev.txt:
# tests, the compiler, the audit), each compiled from its .in file with every package pinned
# and hashed. A developer's machine gets both.
$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $@

setup: $(INSTALLED)

# SQLite demo: migrate, load demo data once, print the demo accounts, serve on 127.0.0.1:8000
# with a background worker beside it (imports and workbooks run as jobs); Ctrl-C stops both.
run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo
	DEBUG=1 $(BIN)/python manage.py db_worker --queue-name '*' --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

test: setup
	$(BIN)/python -m pytest

# Refresh the Indonesian catalogue after changing user-facing strings (needs GNU gettext).
messages: setup
	$(BIN)/python manage.py makemessages --locale id --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'tests/*'
	$(BIN)/python manage.py compilemessages --locale id --ignore '.venv/*'

# What `manage.py check --deploy` says with production settings.
check-deploy: setup
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=uppka.example.go.id \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# After editing requirements.in or requirements-dev.in: pin and hash what they need (uv,
# from PyPI), keeping the other pins as they are. `make requirements UPGRADE=1` moves every
# indirect package to its newest version. Commit the .in and .txt files together.
COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 --custom-compile-command "make requirements" $(if $(UPGRADE),--upgrade)
requirements: setup
	$(COMPILE) requirements.in --output-file requirements.txt
	$(COMPILE) requirements-dev.in --output-file requirements-dev.txt

# Known vulnerabilities in the pinned packages (pip-audit; exits 1 when one is found).
audit: setup
	$(BIN)/python scripts/audit_requirements.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# Benchmark (not part of `make test`): SQLite and PostgreSQL with 10,000 households, and
# PostgreSQL with 100,000. Bench databases are kept between runs (seeding 100,000 takes ~30 s);
# BENCH_DB names them (make bench BENCH_DB=my_bench keeps them apart from another checkout's).
BENCH_PG := postgres://postgres@127.0.0.1:5432
BENCH_DB ?= uppka_bench
bench: setup
	mkdir -p var
	DATABASE_URL=sqlite:///$(CURDIR)/var/bench-10000.sqlite3 $(BIN)/python manage.py bench --households 10000 \
		--data-out var/bench-data-10000.xlsx
	rm -f var/bench-import.sqlite3*
	DATABASE_URL=sqlite:///$(CURDIR)/var/bench-import.sqlite3 $(BIN)/python manage.py bench_import var/bench-data-10000.xlsx
	@if pg_isready -h 127.0.0.1 -p 5432 -q; then \
		for n in 10000 100000; do \
			psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(BENCH_DB)_$$n'" | grep -q 1 \
				|| createdb -h 127.0.0.1 -U postgres $(BENCH_DB)_$$n; \
			DATABASE_URL=$(BENCH_PG)/$(BENCH_DB)_$$n $(BIN)/python manage.py bench --households $$n || exit 1; \
		done; \
		dropdb -h 127.0.0.1 -U postgres --if-exists $(BENCH_DB)_import && createdb -h 127.0.0.1 -U postgres $(BENCH_DB)_import; \
		DATABASE_URL=$(BENCH_PG)/$(BENCH_DB)_import $(BIN)/python manage.py bench_import var/bench-data-10000.xlsx || exit 1; \
		dropdb -h 127.0.0.1 -U postgres --if-exists $(BENCH_DB)_wide && createdb -h 127.0.0.1 -U postgres $(BENCH_DB)_wide; \
		test -f var/bench-wide-100000.xlsx || DATABASE_URL=$(BENCH_PG)/$(BENCH_DB)_wide $(BIN)/python manage.py bench_import \
			var/bench-wide-100000.xlsx --write-wide 100000 || exit 1; \
		DATABASE_URL=$(BENCH_PG)/$(BENCH_DB)_wide $(BIN)/python manage.py bench_import var/bench-wide-100000.xlsx || exit 1; \
		dropdb -h 127.0.0.1 -U postgres --if-exists $(BENCH_DB)_wjob && createdb -h 127.0.0.1 -U postgres $(BENCH_DB)_wjob; \
		DATABASE_URL=$(BENCH_PG)/$(BENCH_DB)_wjob $(BIN)/python manage.py bench_import var/bench-wide-100000.xlsx --job || exit 1; \
	else echo "PostgreSQL is not running on 127.0.0.1:5432: PostgreSQL figures skipped."; fi

# The optional big run: PostgreSQL with 1,000,000 households (seeding takes about 6 minutes
# and the database about 1.5 GB; three runs per page).
bench-million: setup
	psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(BENCH_DB)_1000000'" | grep -q 1 \
		|| createdb -h 127.0.0.1 -U postgres $(BENCH_DB)_1000000
	DATABASE_URL=$(BENCH_PG)/$(BENCH_DB)_1000000 $(BIN)/python manage.py bench --households 1000000 --runs 3

# How long a new cadre needs for a 20-member month on the entry sheet, at human pace on a
# 360x740 phone in Chromium (throwaway database; fails over 80 s). Not part of `make test`.
pace: setup
	$(BIN)/python scripts/sheet_pace.py

# A verified backup of the database DATABASE_URL points at (SQLite or PostgreSQL), in
# BACKUP_DIR (var/backups/). Refuses without DATABASE_URL unless DEBUG=1 (the demo database).
backup: setup
	$(BIN)/python manage.py backup

# make restore FILE=var/backups/uppka-….sqlite3 (stop the app first). It asks before
# replacing anything and saves the current database first.
restore: setup
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/…"; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)"
