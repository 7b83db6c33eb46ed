# Two commands on a fresh Debian/Ubuntu machine:  make run  |  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := procurement

.PHONY: run test bench system-deps system-deps-browser install translations db demo serve check clean

run: system-deps install db demo serve

test: system-deps-browser install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: system-deps install
	$(BIN)/python -m bench $(if $(ONLY),--only $(ONLY),)

system-deps:
	@scripts/system-deps.sh

system-deps-browser:
	@scripts/system-deps.sh --browser

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP) translations

translations:
	@$(BIN)/pybabel compile -d procurement/translations >/dev/null

db:
	FLASK_DEMO_MODE=true $(BIN)/flask init-db

demo:
	FLASK_DEMO_MODE=true $(BIN)/flask seed-demo --if-empty

serve:
	@echo ""
	@echo "  Serving on http://$(HOST):$(PORT)  (demo mode; Ctrl-C stops)"
	@echo "  Demo logins, password Demo@2026:"
	@echo "    officer (绥江县民政局)  officer_pl (盘龙区)  officer_ws (文山市)  officer_yn (省民政厅)"
	@echo "    supplier  finance  evaluator  sysadmin  secadmin  auditor"
	@echo ""
	@# the background worker (large uploads of delivery rows) runs beside the web server and stops with it
	FLASK_DEMO_MODE=true $(BIN)/huey_consumer procurement.tasks.huey --workers 1 --logfile instance/worker.log & \
	  worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  FLASK_DEMO_MODE=true $(BIN)/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) --access-logfile - 'procurement:create_app()'

check: install
	$(BIN)/flask check

clean:
	rm -rf $(VENV) instance/*.db
