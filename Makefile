# Needle Aftercare: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV := DEBUG=1

.PHONY: run test test-postgres install install-test clean messages

# Translations: the .po files are committed, the .mo files are built from them
# here, before serving or testing. Needs GNU gettext's msgfmt.
define compile_messages
@command -v msgfmt >/dev/null 2>&1 || { echo "Compiling translations needs GNU gettext's msgfmt: install gettext: apt-get install gettext (macOS: brew install gettext)" >&2; exit 1; }
$(DEV) $(BIN)/python manage.py compilemessages --ignore=$(VENV) --verbosity 0
endef

run: install
	$(compile_messages)
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py seed_demo --if-empty
	@echo ""
	@echo "  Needle Aftercare is at http://127.0.0.1:8000"
	@echo "  Demo logins (password for all: needle-demo-2026):"
	@echo "    ana   therapist, Harbourside Physiotherapy"
	@echo "    ben   therapist, Harbourside Physiotherapy"
	@echo "    lena  clinic lead, Harbourside Physiotherapy"
	@echo ""
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# One pytest worker per core (pytest-xdist). pytest-django gives each worker its
# own test database (its name ends in _gw0, _gw1, …) and each browser-test worker
# its own live server and Chromium.
test: install-test
	$(compile_messages)
	$(BIN)/python -m pytest -n auto

# The same suite against a throwaway PostgreSQL cluster on 127.0.0.1:55432
# (needs Debian's postgresql package; .ci/with-postgres starts and removes it).
test-postgres: install-test
	$(compile_messages)
	.ci/with-postgres $(BIN)/python -m pytest -n auto

messages: install
	$(compile_messages)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(VENV)/.installed
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

install-test: $(VENV)/.installed-test
$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-test.txt
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) staticfiles

# `make bench`: the app under gunicorn, measured against Django's own floor at 1 k and
# 1 M reports; writes bench/results.md (see bench/README.md). The 1 M-report database is
# built once and cached in bench/.data/. BENCH_SCALE=small gives a quicker run.
.PHONY: bench
bench: install
	$(compile_messages)
	$(BIN)/python -m bench.run
