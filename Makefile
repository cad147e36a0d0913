# The two commands of the README: `make dev` runs the whole system, `make test` the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: dev test unit integration browser bench clean

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

bench: $(STAMP)
	$(BIN)/python -m bench.eventstore
	$(BIN)/python -m bench.relay
	$(BIN)/python -m bench.dispatch
	$(BIN)/python -m bench.sla_timers
	$(BIN)/python -m bench.projection
	$(BIN)/python -m bench.queues

clean:
	rm -rf $(VENV) .estatedesk .pytest_cache
