# The two commands of the README: `make dev` runs the whole system, `make test` the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: dev test unit integration browser fuzz faults bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[embedded,test]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/estatedesk dev

# The browser tests drive Debian's Chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei)

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

# The fuzz tests of `make test`, time-boxed: sweeps of generated requests over every operation of
# the intake and analytics APIs, with fresh seeds, until ESTATEDESK_FUZZ_SECONDS (default 600)
# are spent, then prints how many requests it generated.
fuzz: $(STAMP)
	ESTATEDESK_FUZZ_SECONDS=$${ESTATEDESK_FUZZ_SECONDS:-600} $(BIN)/python -m pytest -q tests/fuzz

# Load on `estatedesk dev` while each service, the broker and PostgreSQL are killed in turn;
# prints per fault how long recovery took and, in all, what was lost, doubled or dead-lettered.
faults: $(STAMP)
	$(BIN)/python -m bench.faults

bench: $(STAMP)
	$(BIN)/python -m bench.eventstore
	$(BIN)/python -m bench.relay
	$(BIN)/python -m bench.dispatch
	$(BIN)/python -m bench.sla_timers
	$(BIN)/python -m bench.projection
	$(BIN)/python -m bench.queues
	$(BIN)/python -m bench.read_side
	$(BIN)/python -m bench.e2e

clean:
	rm -rf $(VENV) .estatedesk .pytest_cache
