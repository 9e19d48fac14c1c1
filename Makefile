# Needle Aftercare: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV := DEBUG=1

.PHONY: run run-lan test test-postgres install install-test clean messages screenshots patient-css

# Where `make run` serves: this machine only, on 127.0.0.1:8000. `make run-lan`
# (the same as HOST=0.0.0.0) serves the local network too. Links, QR codes and
# reminders carry ADDRESS:PORT, the address a browser reaches the server at:
# HOST itself, or this machine's address on the network when serving on every
# interface (found by tracker/devdata/lan.py; give ADDRESS=... to choose another).
HOST ?= 127.0.0.1
PORT ?= 8000
ADDRESS ?= $(if $(filter 0.0.0.0,$(HOST)),$(shell $(BIN)/python -m tracker.devdata.lan),$(HOST))
SERVE = $(DEV) SITE_URL=http://$(ADDRESS):$(PORT) ALLOWED_HOSTS='$(ADDRESS),127.0.0.1,localhost,[::1]'
ifeq ($(HOST),0.0.0.0)
PATIENT_SIDE = open a session and scan its QR code with a phone on the same network \
  (if the phone cannot connect, this machine's firewall may be blocking port $(PORT))
else
PATIENT_SIDE = on a session's page, \"Open the patient's page here\" opens it at phone width \
  (make run-lan: on a phone)
endif

# Translations: the .po files are committed, the .mo files are built from them
# here, before serving or testing. Needs GNU gettext's msgfmt.
define compile_messages
@command -v msgfmt >/dev/null 2>&1 || { echo "Compiling translations needs GNU gettext's msgfmt: install gettext: apt-get install gettext (macOS: brew install gettext)" >&2; exit 1; }
$(DEV) $(BIN)/python manage.py compilemessages --ignore=$(VENV) --verbosity 0
endef

run: install
	@test -n "$(ADDRESS)"
	$(compile_messages)
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py seed_demo --if-empty
	@echo ""
	@echo "  Needle Aftercare is at http://$(ADDRESS):$(PORT)"
	@echo "  Demo logins (password for all: needle-demo-2026):"
	@echo "    ana   therapist, Harbourside Physiotherapy"
	@echo "    ben   therapist, Harbourside Physiotherapy"
	@echo "    lena  clinic lead, Harbourside Physiotherapy"
	@echo "  The patient's side: $(PATIENT_SIDE)."
	@echo "  Reminders and urgent alerts' escalations go out every minute while it serves;"
	@echo "  their emails are printed here."
	@echo ""
	$(SERVE) $(BIN)/python manage.py send_due_reminders --every 60 & job=$$!; \
	trap 'kill $$job 2>/dev/null' EXIT INT TERM; \
	$(SERVE) $(BIN)/python manage.py runserver $(HOST):$(PORT)

run-lan:
	@$(MAKE) --no-print-directory run HOST=0.0.0.0

# One pytest worker per core (pytest-xdist). pytest-django gives each worker its
# own test database (its name ends in _gw0, _gw1, …) and each browser-test worker
# its own live server and Chromium.
test: install-test lint
	$(compile_messages)
	$(BIN)/python -m pytest -n auto

# ruff: the lint rules in pyproject.toml, and the formatting, on the whole tree.
.PHONY: lint
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The same suite against a throwaway PostgreSQL cluster on 127.0.0.1:25432
# (needs Debian's postgresql package; .ci/with-postgres starts and removes it).
test-postgres: install-test
	$(compile_messages)
	.ci/with-postgres $(BIN)/python -m pytest -n auto

messages: install
	$(compile_messages)

# The README's pictures (docs/screenshots/*.png): a fresh demo database served on a
# free port, photographed in Chromium as the therapist, the patient and the lead.
screenshots: install-test
	$(compile_messages)
	$(BIN)/python docs/make_screenshots.py

# The patient pages' stylesheet, tracker/static/tracker/css/patient.css (committed): the rules
# of Bootstrap and app.css that templates/patient/ and check-in.js use (tools/patient_css.py).
# Run it after changing either; tests/test_patient_css.py fails until then.
patient-css: install
	$(BIN)/python -m tools.patient_css

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

# `make bench`: the app under gunicorn on SQLite and on PostgreSQL (a throwaway cluster
# with fsync on, .ci/with-postgres --durable), measured against Django's own floors at
# 1 k and 1 M reports, and the patient's pages in Chromium on emulated phone networks
# (hence Playwright, from the test requirements); writes bench/results.md (see
# bench/README.md). The SQLite 1 M-report database is built once and cached in
# bench/.data/. BENCH_SCALE=small gives a quicker run; BENCH_ARGS passes options to
# bench/run.py (e.g. BENCH_ARGS="--reports 200000 --skip phone,truth").
.PHONY: bench
bench: install-test
	$(compile_messages)
	.ci/with-postgres --durable sh -c 'BENCH_DATABASE_URL="$$DATABASE_URL" $(BIN)/python -m bench.run $(BENCH_ARGS)'

# Only the FHIR bulk export, at 20 k and 1 M reports, on both databases (bench/fhir.py):
# its time and peak memory against the number of reports. About an hour the first time.
.PHONY: bench-fhir
bench-fhir: install-test
	$(compile_messages)
	.ci/with-postgres --durable sh -c 'BENCH_DATABASE_URL="$$DATABASE_URL" $(BIN)/python -m bench.fhir $(BENCH_ARGS)'

# Only the patient's pages on emulated phone networks (bench/phone.py): a few minutes.
.PHONY: bench-phone
bench-phone: install-test
	$(compile_messages)
	$(BIN)/python -m bench.phone
