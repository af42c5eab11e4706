# Two commands are the contract (README): `make run` and `make test`.
PYTHON ?= python3
# A working uv on PATH, else one bootstrapped in .tools/ (pyenv shims may hide it).
UV := $(shell uv --version >/dev/null 2>&1 && echo uv || echo .tools/bin/uv)
ADDR ?= 127.0.0.1:8000
# VIGIE_ADDR: links in notifications point where `make run` serves, unless VIGIE_BASE_URL is set.
MANAGE := VIGIE_ADDR=$(ADDR) $(UV) run --frozen python manage.py
# Tests run on every core with pytest-xdist when there is more than one and xdist is installed;
# PYTEST_ARGS=... replaces this (serial unless it says -n). pytest-django gives each xdist worker
# its own test database (test_<name>_gw0, _gw1, ...), on SQLite and PostgreSQL alike.
NPROC ?= $(shell nproc 2>/dev/null || echo 1)
HAS_XDIST = $(shell $(UV) run --frozen python -c "import xdist" >/dev/null 2>&1 && echo yes)
PYTEST_ARGS ?= $(if $(and $(filter-out 0 1,$(NPROC)),$(HAS_XDIST)),-n $(NPROC) --dist loadgroup)

.PHONY: run manage test install lint format bench messages

# `make run` serves on ADDR (host:port), e.g. `make run ADDR=0.0.0.0:8080`.
run: install .env
	@$(MANAGE) migrate --no-input --verbosity 0
	@$(MANAGE) demo --verbosity 0 --url http://$(ADDR)/
	@$(MANAGE) serve --addr $(ADDR)

# Any manage.py command with make run's settings: make manage ARGS="sync --source prod".
manage: install .env
	@$(MANAGE) $(ARGS)

# Development settings, written once; the environment wins over them (vigie.env.load_dotenv).
.env:
	@printf '# Written by make run: development settings (not for production).\nDEBUG=true\nSECRET_KEY=%s\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env

test: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen pytest $(PYTEST_ARGS)

# Silent: `make manage ARGS="monitors export" > monitors.yaml` keeps only the command's output.
install: .tools/bin/uv
	@$(UV) sync --frozen --quiet
	@env -u DJANGO_SETTINGS_MODULE $(UV) run --frozen django-admin compilemessages --ignore .venv --ignore .tools --ignore var --verbosity 0

.tools/bin/uv:
	@if ! uv --version >/dev/null 2>&1; then \
		$(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv; \
	else mkdir -p .tools/bin && ln -sf "$$(command -v uv)" .tools/bin/uv; fi

lint:
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format:
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

messages:
	$(MANAGE) makemessages -l fr -l en --ignore .venv --ignore .tools --no-obsolete

bench: install
	@for script in bench/[!_]*.py; do echo "== $$script"; $(UV) run --frozen python $$script || exit 1; done
