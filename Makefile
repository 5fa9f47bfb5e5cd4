# Yizhan 驿站 — developer commands. `make help` lists them.
#
# Everything runs from the project's own virtual environment in .venv (Python 3.11), which the
# first target that needs it creates; it is rebuilt when pyproject.toml or constraints.txt change.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
# Set PYTHON=/path/to/python3.11 to choose the interpreter the venv is made from.
PYTHON ?=

VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANAGE := $(VENV_PY) manage.py
DEV_SETTINGS := yizhan.config.settings.dev

# Directories the translation and lint tools must not walk into.
I18N_IGNORE := --ignore=.venv --ignore=var --ignore=tests --ignore=benchmarks --ignore=docs \
	--ignore=node_modules --ignore=build --ignore=dist

.PHONY: help venv demo test bench fuzz lint format messages clean backup screenshots prod prod-test

help: ## Show this list
	@echo "Yizhan 驿站 — make targets:"
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'
	@echo
	@echo "  PORT=8080 make demo   serve the demo on another port"

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@set -e; \
	py="$(PYTHON)"; \
	is311='import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; \
	if [ -z "$$py" ]; then \
		for candidate in python3.11 python3; do \
			if command -v "$$candidate" >/dev/null 2>&1 && "$$candidate" -c "$$is311" 2>/dev/null; then \
				py="$$candidate"; break; \
			fi; \
		done; \
	fi; \
	if [ -n "$$py" ] && ! "$$py" -c "$$is311" 2>/dev/null; then \
		echo "error: PYTHON=$$py is not Python 3.11 ($$("$$py" --version 2>&1 | head -n 1))." >&2; \
		exit 1; \
	fi; \
	if [ -z "$$py" ]; then \
		echo "error: Yizhan needs Python 3.11. Neither python3.11 nor python3 on PATH is 3.11" >&2; \
		echo "       (python3 is: $$(python3 --version 2>&1 || echo 'not found'))." >&2; \
		echo "       Install Python 3.11, or run: make PYTHON=/path/to/python3.11 <target>" >&2; \
		exit 1; \
	fi; \
	if [ -x $(VENV_PY) ] && ! $(VENV_PY) -c "$$is311" 2>/dev/null; then \
		echo "$(VENV) holds another Python version: recreating it"; rm -rf $(VENV); \
	fi; \
	if [ ! -x $(VENV_PY) ]; then \
		echo "Creating $(VENV) with $$("$$py" --version 2>&1) ($$(command -v "$$py"))"; \
		"$$py" -m venv $(VENV); \
	fi; \
	echo "Installing Yizhan and its pinned dependencies into $(VENV) …"; \
	$(VENV_PY) -m pip install --quiet --upgrade pip; \
	$(VENV_PY) -m pip install --quiet -c constraints.txt -e '.[dev]'; \
	touch $@

demo: venv ## Create the venv, migrate, load the demo street and serve it on http://127.0.0.1:8000 (PORT=…)
	@echo "Migrating the database …"
	@DJANGO_SETTINGS_MODULE=$(DEV_SETTINGS) $(MANAGE) migrate --noinput -v 0
	@DJANGO_SETTINGS_MODULE=$(DEV_SETTINGS) YIZHAN_DEMO=1 $(MANAGE) demo
	@echo "Serving http://127.0.0.1:$(PORT)/ — press Ctrl-C to stop."
	@DJANGO_SETTINGS_MODULE=$(DEV_SETTINGS) YIZHAN_DEMO=1 DEBUG=1 YIZHAN_JOBS_INPROCESS=1 \
		DASHBOARD_PUBLIC_STREETS=140213055 $(MANAGE) runserver 127.0.0.1:$(PORT)

prod: venv ## The production profile here: gunicorn (4 workers), 2 task workers, the scheduler, PostgreSQL, Redis, an S3 stand-in, the demo (docs/deploy.md; PORT=…)
	$(VENV_PY) tools/prod.py --port $(PORT)

prod-test: venv ## Start a fresh production profile and run the smoke and multi-process tests against it
	YIZHAN_PROD=1 $(VENV)/bin/pytest -q -p no:xdist tests/prod

test: venv ## Run the test suite (SQLite, in parallel)
	$(VENV)/bin/pytest -q -n auto

screenshots: venv ## The README's pictures from the demo, in headless Chromium (docs/screenshots/)
	$(VENV_PY) tools/screenshots.py

FUZZ_EXAMPLES ?= 25

fuzz: venv ## Schemathesis against a live demo server as six roles: no 5xx, schema-conformant (FUZZ_EXAMPLES=5 for CI)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV_PY) tools/fuzz.py

bench: venv ## Run every benchmarks/*.py script (files starting with _ are helpers)
	@set -u; shopt -s nullglob; \
	scripts=(); for s in benchmarks/*.py; do [[ $$(basename "$$s") == _* ]] || scripts+=("$$s"); done; \
	if [ $${#scripts[@]} -eq 0 ]; then echo "no benchmarks yet"; exit 0; fi; \
	failed=(); \
	for s in "$${scripts[@]}"; do \
		echo "== $$s"; \
		$(VENV_PY) "$$s" || failed+=("$$s"); \
	done; \
	if [ $${#failed[@]} -ne 0 ]; then echo "benchmarks failed: $${failed[*]}" >&2; exit 1; fi

backup: venv ## Back up the database and media into BACKUP_DIR (var/backups), keeping the last 14
	$(MANAGE) backup --gzip --keep 14

lint: venv ## ruff check and ruff format --check (both run; fails if either finds something)
	@rc=0; \
	$(VENV)/bin/ruff check . || rc=1; \
	$(VENV)/bin/ruff format --check . || rc=1; \
	exit $$rc

format: venv ## Sort imports and format the code with ruff
	$(VENV)/bin/ruff check --select I --fix --quiet .
	$(VENV)/bin/ruff format .

messages: venv ## Update the zh_Hans and en message catalogues and compile them
	DJANGO_SETTINGS_MODULE=$(DEV_SETTINGS) $(MANAGE) makemessages -l zh_Hans -l en \
		--add-location=file $(I18N_IGNORE)
	DJANGO_SETTINGS_MODULE=$(DEV_SETTINGS) $(MANAGE) compilemessages $(I18N_IGNORE)

clean: ## Remove var/ (the demo database and files) and caches; keeps .venv
	rm -rf var .pytest_cache .ruff_cache .hypothesis htmlcov .coverage staticfiles media
	find . -path ./.venv -prune -o -path ./.git -prune -o -type d -name __pycache__ -print0 \
		| xargs -0 rm -rf
