# The points platform. `make run` starts everything on embedded defaults; `make test` proves it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lock install run stop infra lint test unit bench simulate clean contracts validators

# Every package pinned, with hashes, by requirements-dev.lock (the image uses requirements.lock):
# the same versions on every machine, and a tampered download refused.
$(STAMP): pyproject.toml requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

## Re-pin every dependency after a change to pyproject.toml (or to take newer releases); commit both files.
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command "make lock"
lock: install
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -o requirements-dev.lock

## Start PostgreSQL, the broker and the four services; Ctrl-C (or `make stop`) stops them all.
run: install
	$(BIN)/python -m deploy.local run

## Stop whatever `make run`, `make test` or `make bench` left running (also after a crash).
stop:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m deploy.local stop; fi

## PostgreSQL + broker + schemas + demo data, without the services.
infra: install
	$(BIN)/python -m deploy.local infra

## Lint, format and types: ruff over everything; mypy --strict where the rules and the shared floor live.
MYPY_STRICT := shared services/intake/domain.py services/verification/domain.py services/publicity/domain.py \
	services/scoring/domain.py services/scoring/engine services/scoring/replay/domain.py \
	services/scoring/campaigns/domain.py
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict $(MYPY_STRICT)

## Official validators from npm (pinned by tools/validators/package-lock.json): the AsyncAPI parser for the
## event contracts, the Prometheus Operator's schemas for the ServiceMonitor.
VALIDATORS := tools/validators/node_modules/.installed
$(VALIDATORS): tools/validators/package.json tools/validators/package-lock.json
	cd tools/validators && npm ci --no-audit --no-fund --loglevel=error
	@touch $(VALIDATORS)

validators: $(VALIDATORS)

## Rewrite docs/contracts/ from the services' documents after a deliberate change (review the diff).
contracts: install $(VALIDATORS)
	$(BIN)/python tools/validators/snapshot.py
	node tools/validators/asyncapi.mjs docs/contracts/*.asyncapi.json

## Every test: lint, unit tests, then integration and end-to-end tests on the real PostgreSQL and broker.
test: install lint $(VALIDATORS)
	@sh deploy/local/chromium.sh
	$(BIN)/python -m deploy.local infra
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Pure-logic tests only (no infrastructure).
unit: install $(VALIDATORS)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

## Throughput and latency figures (see README, "Benchmarks").
bench: install
	$(BIN)/python -m deploy.local infra
	$(BIN)/python -m bench $(BENCH_ARGS)

## The shipped simulation (租购同分) on a synthetic city of 6.2 million holders; report in simulation-reports/.
simulate: install
	$(BIN)/python -m services.scoring.simulation example $(SIM_ARGS)

clean: stop
	rm -rf .local $(VENV)
