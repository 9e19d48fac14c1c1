# Needle Aftercare: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV := DEBUG=1

.PHONY: run test install install-test migrate clean

run: install
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

test: install-test
	$(BIN)/python -m pytest

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
