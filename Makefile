# The CRM Service. `make run` serves it, `make test` checks everything. See README.md.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv installs everything else. Use the one on PATH, else bootstrap a private copy into .tools/.
UV ?= $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
export UV_SYSTEM_CERTS ?= 1
RUN := $(UV) run --frozen

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet "uv>=0.5,<1"

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

.PHONY: install
install: .venv/.installed ## Install the service and its development tools into .venv

.PHONY: run
run: install ## Serve on PORT (default 8000) and deliver webhooks; an embedded PostgreSQL when DATABASE_URL is unset
	$(RUN) crm serve --webhooks

.PHONY: admin
admin: install ## Create an admin: make admin EMAIL=you@example.com NAME="Your Name" (asks for the password)
	$(RUN) crm users create-admin $(if $(EMAIL),--email "$(EMAIL)") $(if $(NAME),--name "$(NAME)")

.PHONY: webhooks
webhooks: install ## Deliver webhooks in a process of its own, as production does (make run delivers them itself)
	$(RUN) crm webhooks work

.PHONY: migrate
migrate: install ## Apply database migrations, both phases (DATABASE_URL, or the embedded database)
	$(RUN) crm migrate --contract

.PHONY: lint
lint: install ## Static checks: ruff, formatting, mypy (strict), import layers, dependencies, dead code, migrations (squawk)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports
	$(RUN) deptry .
	$(RUN) vulture
	$(RUN) python -m scripts.lint_migrations

.PHONY: format
format: install ## Format the code and apply safe lint fixes
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

.PHONY: ci-tools
ci-tools: ## Install gitlab-ci-local (pinned, npm) into .tools/node for the pipeline checks
	bash scripts/install-ci-tools.sh

.PHONY: frontend-tools
frontend-tools: ## Install Chromium (apt, as root) and the pinned TypeScript client tools (npm) for tests/api
	bash scripts/install-frontend-tools.sh

.PHONY: test
test: lint ci-tools frontend-tools ## Static checks, then the whole test suite
	$(RUN) pytest $(PYTEST_ARGS)

# The core's tests: unit tests, the in-memory profile, the contract suite on its in-memory backend, and the photo
# pipeline's own tests. No database, no server processes: seconds, for the edit-test loop.
FAST_TESTS := tests/unit tests/service/in_memory tests/contract tests/adapters/photos/test_images.py tests/adapters/photos/test_signing.py \
	tests/adapters/photos/test_memory_storage.py tests/adapters/photos/test_sweep.py

.PHONY: test-fast
test-fast: install ## Unit and in-memory contract tests only (no PostgreSQL needed)
	$(RUN) pytest $(FAST_TESTS) -m "not database and not timing" $(PYTEST_ARGS)

# Containers, for those with podman or docker (see compose.yaml and docs/deployment.md).
ENGINE ?= $(shell command -v podman 2>/dev/null || command -v docker 2>/dev/null)
COMPOSE ?= $(ENGINE) compose
IMAGE ?= localhost/crm-service:dev

.PHONY: build up stop migrate-up
build: ## Build the container image (podman or docker)
	$(if $(ENGINE),,$(error no podman or docker found))$(ENGINE) build -f Containerfile -t $(IMAGE) .
up: ## PostgreSQL, MinIO, migrations and the service in containers
	$(COMPOSE) up --build --detach
stop: ## Stop the containers (the volumes stay)
	$(COMPOSE) down
migrate-up: ## Apply migrations in the compose stack
	$(COMPOSE) run --rm migrate

.PHONY: bench
bench: install ## Benchmark against a bare asyncpg reference into docs/performance.md (BENCH_ARGS=--quick)
	$(RUN) python -m bench.run $(BENCH_ARGS)
	$(RUN) python -m bench.data_files $(BENCH_ARGS)
	$(RUN) python -m bench.live_changes $(BENCH_ARGS)
	$(RUN) python -m bench.write_commits --stream $(BENCH_ARGS)
	$(RUN) python -m bench.fair_use $(BENCH_ARGS)

.PHONY: bench-rollout
bench-rollout: install ## A rolling update under load, previous release -> HEAD (ROLLOUT_ARGS=--rows 1000000; see --help)
	$(RUN) python -m bench.rolling_update $(ROLLOUT_ARGS)

.PHONY: clean
clean: ## Remove the local data folder (embedded database, photos) and caches
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
