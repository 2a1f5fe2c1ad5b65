# One command to start the service, one to test it; both bootstrap a local virtualenv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REF_VENV ?= .venv-agentos
REF_STAMP := $(REF_VENV)/.installed
REF_REQUIREMENTS := tests/contract/reference-requirements.txt

.PHONY: install run test unit-test contract-test fuzz lint clean bench bench-check wrk

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

$(REF_STAMP): $(REF_REQUIREMENTS)
	$(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install -q --upgrade pip
	$(REF_VENV)/bin/python -m pip install -q -r $(REF_REQUIREMENTS)
	touch $(REF_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/agno-session serve

lint: $(STAMP)
	$(BIN)/ruff check .

# The whole suite: lint, then unit/integration tests, then the differential test against the real AgentOS.
test: lint unit-test contract-test

unit-test: $(STAMP)
	$(BIN)/python -m pytest --ignore=tests/contract

contract-test: $(STAMP) $(REF_STAMP)
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python $(BIN)/python -m pytest tests/contract

# A longer schemathesis campaign (all phases, more examples, 15 min budget); report in reports/schemathesis.
fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz.py --profile campaign

# Side by side with the real AgentOS on a generated dataset (not part of `make test`); BENCH_ARGS e.g.
# "--sessions 200000 --workers 2". Report in reports/bench.
bench: $(STAMP) $(REF_STAMP) wrk
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python $(BIN)/python scripts/bench.py $(BENCH_ARGS)

# The ratio regression check (ratios to AgentOS on a small dataset; see scripts/bench_check.py for why it is
# not part of `make test`).
bench-check: $(STAMP) $(REF_STAMP) wrk
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python $(BIN)/python scripts/bench_check.py $(BENCH_ARGS)

# wrk from Debian, installed when missing (needs root or sudo).
wrk:
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get install -y -q wrk; \
		else sudo apt-get install -y -q wrk; fi; }

clean:
	rm -rf $(VENV) $(REF_VENV) .pytest_cache
