# agno-session's commands: plain `make` lists them by group. Each target makes the virtualenvs it needs from the
# locks in requirements/; Debian programs come only from `make system-packages`, which CI runs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REF_VENV ?= .venv-agentos
REF_STAMP := $(REF_VENV)/.installed
REF_REQUIREMENTS := requirements/agentos.txt
# The cut-over proxy runs under mitmdump from its own virtualenv: mitmproxy pins libraries below the project's.
PROXY_VENV ?= .venv-proxy
PROXY_STAMP := $(PROXY_VENV)/.installed
PROXY_REQUIREMENTS := requirements/proxy.txt
# Every virtualenv installs from a lock in requirements/ (exact versions, hashes; docs/dependencies.md): the service
# from pyproject.toml's ranges resolved once by `make lock`, each tool from its short requirements/*.in.
PIP_LOCK := requirements/pip.txt
BUILD_LOCK := requirements/build.txt
SERVICE_LOCK := requirements/service.txt
TEST_LOCK := requirements/service-test.txt
PIP_LOCKED = -m pip install -q --disable-pip-version-check --require-hashes -r
AGENTOS_URL ?= http://127.0.0.1:7777
SESSIONS_URL ?= http://127.0.0.1:8080
SHADOW_MODE ?= shadow
SHADOW_PORT ?= 8880
SHADOW_CONTROL_PORT ?= 8881
SHADOW_REPORT_DIR ?= reports/shadow
SHADOW_RULES ?=
SHADOW_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run lock clean test lint unit-test integration-test system-test contract-test fuzz system-packages proxy-test shadow demo proxy-bench bench bench-check bench-extensions bench-search bench-changes bench-write-cost bench-trigger-count bench-soak bench-scale bench-retention bench-export bench-events wrk deploy-test image compose-up compose-secrets compose-down chart smoke deploy-tools

DEPLOY_VENV ?= .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
COMPOSE_FILES := -f docker-compose.session.yml -f docker-compose.local.yml
SMOKE_URL ?= http://127.0.0.1:8080

# A venv holding exactly one lock (made afresh with --clear whenever that lock changes): pip from its own lock first,
# then the lock, all with hashes.
define locked_venv
	$(PYTHON) -m venv --clear $(1)
	$(1)/bin/python $(PIP_LOCKED) $(PIP_LOCK)
	$(1)/bin/python $(PIP_LOCKED) $(2)
endef

# The service's venv: the build backend and the test lock, then the project itself built with that backend
# (--no-build-isolation: nothing unlocked is fetched to build it).
$(STAMP): pyproject.toml $(PIP_LOCK) $(BUILD_LOCK) $(SERVICE_LOCK) $(TEST_LOCK)
	$(call locked_venv,$(VENV),$(BUILD_LOCK))
	$(BIN)/python $(PIP_LOCKED) $(TEST_LOCK)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(REF_STAMP): $(PIP_LOCK) $(REF_REQUIREMENTS)
	$(call locked_venv,$(REF_VENV),$(REF_REQUIREMENTS))
	touch $(REF_STAMP)

$(PROXY_STAMP): $(PIP_LOCK) $(PROXY_REQUIREMENTS)
	$(call locked_venv,$(PROXY_VENV),$(PROXY_REQUIREMENTS))
	touch $(PROXY_STAMP)

# The deploy tools live apart from the project's .venv: helm-python-sdk, kubernetes-validate, podman-compose,
# check-jsonschema and hadolint in one venv; checkov (which pins much of its tree) in another.
$(DEPLOY_STAMP): $(PIP_LOCK) requirements/deploy-tools.txt
	$(call locked_venv,$(DEPLOY_VENV),requirements/deploy-tools.txt)
	touch $(DEPLOY_STAMP)

$(CHECKOV_STAMP): $(PIP_LOCK) requirements/checkov.txt
	$(call locked_venv,$(CHECKOV_VENV),requirements/checkov.txt)
	touch $(CHECKOV_STAMP)

# Regenerate every lock in requirements/ with uv (itself installed from the test lock) after editing pyproject.toml
# or a *.in; versions already locked stay unless an input needs another one or UPGRADE names the package
# (make lock UPGRADE="flask orjson"). The locks resolve for every platform and every Python from the version given
# (--universal): this machine's 3.11 and the image's 3.12 install the same file. The runtime lock starts at
# pyproject's 3.10; the test lock at 3.11, which schemathesis needs. requirements/agentos.txt is the recorded
# contract: UPGRADE never moves it. How to change a dependency: docs/dependencies.md.
UPGRADE ?=
UPGRADE_ARGS = $(foreach p,$(UPGRADE),--upgrade-package $(p))
UV_COMPILE = $(BIN)/uv pip compile --generate-hashes --universal --no-python-downloads \
	--custom-compile-command 'make lock'
# uv rewrites its output even when nothing changed: a lock is replaced only when it did, so the venv stamps that
# depend on it rebuild only then. The old lock is uv's starting point (its versions are kept unless upgraded).
define compile_lock
	@echo "lock: $(1)"
	@new=$$(mktemp) && { cp $(1) $$new 2>/dev/null || true; } && $(UV_COMPILE) $(2) -o $$new >/dev/null \
		&& { cmp -s $$new $(1) || cp $$new $(1); }; status=$$?; rm -f $$new; exit $$status
endef

##@ Run

# Every target with a `## ` description, under the `##@ ` group it is defined in.
help: ## this list
	@awk 'BEGIN { FS = ":[^#]*## " } /^##@ / { printf "\n%s\n", substr($$0, 5) } \
		/^[a-z][a-zA-Z_-]*:.*## / { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

install: $(STAMP) ## the service's .venv, from the locks in requirements/ (exact versions, hashes)

run: $(STAMP) ## serve on 127.0.0.1:8080; an embedded PostgreSQL unless AGNO_PG_DSN names one
	$(BIN)/agno-session serve

lock: $(STAMP) ## regenerate the locks after editing pyproject.toml or a requirements/*.in (UPGRADE="pkg …")
	$(call compile_lock,$(SERVICE_LOCK),$(UPGRADE_ARGS) --python-version 3.10 pyproject.toml)
	$(call compile_lock,$(TEST_LOCK),$(UPGRADE_ARGS) --python-version 3.11 pyproject.toml --extra test -c $(SERVICE_LOCK))
	$(call compile_lock,$(PIP_LOCK),$(UPGRADE_ARGS) --python-version 3.10 requirements/pip.in)
	$(call compile_lock,$(BUILD_LOCK),$(UPGRADE_ARGS) --python-version 3.10 requirements/build.in -c $(TEST_LOCK))
	$(call compile_lock,requirements/agentos.txt,--python-version 3.11 requirements/agentos.in)
	$(call compile_lock,requirements/proxy.txt,$(UPGRADE_ARGS) --python-version 3.11 requirements/proxy.in)
	$(call compile_lock,requirements/deploy-tools.txt,$(UPGRADE_ARGS) --python-version 3.11 requirements/deploy-tools.in)
	$(call compile_lock,requirements/checkov.txt,$(UPGRADE_ARGS) --python-version 3.11.5 requirements/checkov.in)

clean: ## remove every virtualenv
	rm -rf $(VENV) $(REF_VENV) $(PROXY_VENV) $(DEPLOY_VENV) $(CHECKOV_VENV) .pytest_cache

##@ Test

# The whole suite, cheapest first: lint, pure tests, tests against PostgreSQL, whole processes, then the differential
# test against the real AgentOS and the proxy's.
test: lint unit-test integration-test system-test contract-test proxy-test ## everything below but fuzz, cheapest first (what CI runs, with bench-check and deploy-test)

lint: $(STAMP) ## ruff over the tree
	$(BIN)/ruff check .

# Pure tests (tests/unit): no PostgreSQL, no server process; seconds.
unit-test: $(STAMP) ## pure tests (tests/unit): no PostgreSQL, no process; seconds
	$(BIN)/python -m pytest tests/unit

# The app against a real PostgreSQL (tests/integration; an embedded one unless AGNO_TEST_PG_DSN names one).
integration-test: $(STAMP) ## the app on a real PostgreSQL (tests/integration)
	$(BIN)/python -m pytest tests/integration

# Whole processes (tests/system): gunicorn, the nginx front, restarts, packaging, PgBouncer, replicas, the fuzz CLI.
system-test: $(STAMP) ## whole processes: gunicorn, nginx, restarts, PgBouncer, replicas (tests/system)
	$(BIN)/python -m pytest tests/system

contract-test: $(STAMP) $(REF_STAMP) ## both servers compared on the same data: the real AgentOS and agno-session
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python $(BIN)/python -m pytest tests/contract

# A longer schemathesis campaign (all phases, more examples, 15 min budget); report in reports/schemathesis.
fuzz: $(STAMP) ## a long schemathesis campaign against a real server (report in reports/schemathesis)
	$(BIN)/python -m scripts.fuzz --profile campaign

# System packages the tests need, from Debian (CI runs this before `make test`; needs root or sudo): nginx for the
# front's tests (tests/system/test_front_server.py fails without it), PostgreSQL's server and PgBouncer for the replica
# and pooler tests, jq for the smoke test, chromium (headless) for the proxy's report test
# (tests/proxy/e2e/test_report_browser.py), wrk for the benchmarks.
SYSTEM_PACKAGES := nginx jq pgbouncer postgresql chromium wrk
system-packages: ## the Debian programs the tests and benchmarks run (nginx, PostgreSQL, wrk…)
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing; fi; \
	else echo "system packages present: $(SYSTEM_PACKAGES)"; fi

##@ Proxy

# The cut-over proxy: its unit tests in its own venv, then the real mitmdump between the real AgentOS and agno-session.
proxy-test: $(STAMP) $(REF_STAMP) $(PROXY_STAMP) ## the cut-over proxy's unit tests, then the real mitmdump between both servers
	$(PROXY_VENV)/bin/python -m pytest --confcutdir=tests/proxy/unit -p no:cacheprovider -W ignore::DeprecationWarning \
		tests/proxy/unit
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python AGNO_MITMDUMP=$(PROXY_VENV)/bin/mitmdump \
		$(BIN)/python -m pytest tests/proxy/e2e

# The proxy in the foreground: make shadow AGENTOS_URL=… SESSIONS_URL=… SHADOW_MODE=shadow|cutover|reverse
# (the starting mode; switch at run time with PUT /mode on the control port). One report directory per mode run
# in SHADOW_REPORT_DIR; mitmproxy's per-connection log lines are filtered by the addon.
# First the preflight (db_ids and auth of both sides, `agno-session check --sessions-url`; AGENTOS_KEY or
# AGENTOS_TOKEN in the environment when AgentOS needs one): a difference refuses to start; SHADOW_PREFLIGHT=0 skips it.
SHADOW_PREFLIGHT ?= 1
shadow: $(STAMP) $(PROXY_STAMP) ## the proxy in the foreground: AGENTOS_URL=… SESSIONS_URL=… SHADOW_MODE=shadow|cutover|reverse
	$(if $(filter 0,$(SHADOW_PREFLIGHT)),@echo "preflight skipped (SHADOW_PREFLIGHT=0)",$(BIN)/agno-session check \
		--agentos-url $(AGENTOS_URL) --sessions-url $(SESSIONS_URL))
	PYTHONPATH=$(CURDIR) $(PROXY_VENV)/bin/mitmdump -s proxy/shadow.py --set flow_detail=0 \
		--mode reverse:$(AGENTOS_URL)@$(SHADOW_PORT) \
		--mode reverse:http://127.0.0.1:9@127.0.0.1:$(SHADOW_CONTROL_PORT) --set connection_strategy=lazy \
		--set shadow_mode=$(SHADOW_MODE) --set shadow_agentos=$(AGENTOS_URL) --set shadow_sessions=$(SESSIONS_URL) \
		--set shadow_report_dir=$(SHADOW_REPORT_DIR) --set shadow_control_port=$(SHADOW_CONTROL_PORT) \
		$(if $(SHADOW_RULES),--set shadow_rules=$(SHADOW_RULES)) $(SHADOW_ARGS)

# The cut-over tried locally: PostgreSQL, the reference AgentOS with agno's seed data, agno-session and the proxy
# (`make shadow`, mode shadow); prints URLs and requests to send; Ctrl-C stops everything. Report in reports/demo.
demo: $(STAMP) $(REF_STAMP) $(PROXY_STAMP) ## the cut-over on this machine: PostgreSQL, AgentOS, agno-session and the proxy
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python $(BIN)/python -m scripts.demo

# Overhead of the proxy (not a test): added latency p50/p99 and mitmdump's CPU per request at 16 and 64 clients;
# PROXY_BENCH_ARGS e.g. "--requests 640 --concurrency 16".
proxy-bench: $(STAMP) $(REF_STAMP) $(PROXY_STAMP) ## the latency and CPU the proxy adds (not a test)
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python AGNO_MITMDUMP=$(PROXY_VENV)/bin/mitmdump \
		$(BIN)/python -m bench.proxy_overhead --scenario $(PROXY_BENCH_ARGS)

##@ Bench

# Side by side with the real AgentOS on a generated dataset (not part of `make test`); BENCH_ARGS e.g.
# "--sessions 200000 --workers 1,2,4" (the whole run once per worker count). Report in reports/bench.
bench: $(STAMP) $(REF_STAMP) wrk ## side by side with the real AgentOS on a generated dataset (BENCH_ARGS)
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python $(BIN)/python -m bench $(BENCH_ARGS)

# The ratio regression check (CI runs it after `make test`): per route, the median over three rounds of
# agno-session's throughput over AgentOS's on 2,000 sessions; fails when one loses more than a third of its ratio.
bench-check: $(STAMP) $(REF_STAMP) wrk ## CI's ratio regression check on 2,000 sessions
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python $(BIN)/python -m bench.check $(BENCH_ARGS)

# The extensions of issue 19 (bounded history, run cursors, list cursors, include/fields, filters) beside AgentOS's
# nearest equivalent, on the dataset with its long sessions; EXT_BENCH_ARGS e.g. "--groups bounded" or
# "--sessions 1000000". A route the served tree does not have yet is skipped and said so. Report in reports/bench.
bench-extensions: $(STAMP) $(REF_STAMP) wrk ## the read extensions beside AgentOS's nearest equivalent (EXT_BENCH_ARGS)
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python $(BIN)/python -m bench.extensions $(EXT_BENCH_ARGS)

# Message search at 1M sessions / ~9M messages of Zipf-distributed text (bench/search.py; SEARCH_BENCH_ARGS e.g.
# "--sessions 20000"), beside AgentOS's name filter on the same database. Loads and indexes the dataset once (about
# 20 minutes at 1M), then times each query class. Report in reports/bench/search-<sessions>.md.
bench-search: $(STAMP) $(REF_STAMP) ## message search by query class beside AgentOS's name filter (SEARCH_BENCH_ARGS)
	$(BIN)/python -m bench.search --ref-python $(REF_VENV)/bin/python $(SEARCH_BENCH_ARGS)

bench-changes: $(STAMP) $(REF_STAMP) ## change feed: 10,000 transactions (agno, the service, held-open, rolled back) read by long-poll and SSE through cuts, terminated connections and a PostgreSQL restart, compared with the log and the tables; commit-to-event per transport; the triggers' cost on agno's run write
	$(BIN)/python -m bench.change_feed --ref-python $(REF_VENV)/bin/python
	$(BIN)/python -m bench.search_trigger_cost --feature changes --writer agno --writes 300 --rounds 20 --ref-python $(REF_VENV)/bin/python

# The change triggers' cost on the real AgentOS's session write routes over HTTP and on agno's upsert_session, and the
# legal hold guard's on this service's deletes, with and without in alternating rounds (bench/write_route_cost.py;
# WRITE_COST_ARGS e.g. "--rounds 30 --requests 40 --part changes"). Prints a Markdown table per part.
bench-write-cost: $(STAMP) $(REF_STAMP) ## change triggers' cost on AgentOS's write routes, hold guard's on the service's deletes (WRITE_COST_ARGS)
	$(BIN)/python -m bench.write_route_cost --ref-python $(REF_VENV)/bin/python $(WRITE_COST_ARGS)

# The same writes' PostgreSQL work counted instead of timed: instructions per write with the change triggers and
# without, under callgrind (bench/trigger_instructions.py; TRIGGER_COUNT_ARGS e.g. "--writes 200"), turned into time
# at the server's own rate and set beside bench-write-cost's p95 in docs/performance.md. Needs valgrind and the
# distribution's PostgreSQL.
bench-trigger-count: $(STAMP) $(REF_STAMP) ## change triggers' PostgreSQL instructions per AgentOS write, with and without (TRIGGER_COUNT_ARGS)
	$(BIN)/python -m bench.trigger_instructions --ref-python $(REF_VENV)/bin/python $(TRIGGER_COUNT_ARGS)

# The export's memory by dataset size (bench/export_rss.py; EXPORT_BENCH_ARGS e.g. "--sessions 20000 1000000"):
# `agno-session export` to /dev/null with its RSS sampled; flat means the same peak at every size.
bench-export: $(STAMP) ## the export's RSS at several dataset sizes (EXPORT_BENCH_ARGS)
	$(BIN)/python -m bench.export_rss $(EXPORT_BENCH_ARGS)

# Both servers' workers' RSS under a steady mixed load for 10 minutes (SOAK_ARGS e.g. "--seconds 60
# --servers agno-session"); fails when agno-session's memory is not bounded. Report in reports/bench/soak-*.
bench-soak: $(STAMP) $(REF_STAMP) wrk ## both servers' memory under 10 minutes of mixed load (SOAK_ARGS)
	AGNO_REFERENCE_PYTHON=$(REF_VENV)/bin/python $(BIN)/python -m bench.soak $(SOAK_ARGS)

# Cost per route at each dataset size relative to the smallest, from bench reports of several sizes (stdlib only):
# make bench-scale SCALE_REPORTS="reports/bench/bench-20000-w1.json reports/bench/bench-1000000-w1.json"
SCALE_REPORTS ?= $(wildcard reports/bench/bench-*-w1.json)
bench-scale: ## cost per route by dataset size, from bench reports (SCALE_REPORTS)
	$(PYTHON) -m bench.scale $(SCALE_REPORTS)

# A retention sweep at scale (bench/retention.py; RETENTION_BENCH_ARGS e.g. "--sessions 100000,1000000"): the sweep's
# rate and peak memory per size, and agno-style writers' latency (an upper bound of their lock wait) with and without
# it. Report in reports/bench/retention-<sizes>.md.
RETENTION_BENCH_ARGS ?=
bench-retention: $(STAMP) ## retention apply over generated sessions while writers write (RETENTION_BENCH_ARGS)
	$(BIN)/python -m bench.retention $(RETENTION_BENCH_ARGS)

# 1,000 concurrent SSE subscribers on one serve-events process (bench/events_fanout.py; EVENTS_BENCH_ARGS e.g.
# "--subscribers 1000 --writes 300 --rate 20"): its RSS and commit-to-event p50/p95/p99; fails unless every
# subscriber got every write once and p95 is at most 1 s. Report in reports/bench/events-<subscribers>.md.
EVENTS_BENCH_ARGS ?=
bench-events: $(STAMP) ## 1,000 SSE subscribers on one serve-events: its memory and commit-to-event p95 (EVENTS_BENCH_ARGS)
	$(BIN)/python -m bench.events_fanout $(EVENTS_BENCH_ARGS)

wrk: ## check that wrk, the load generator, is installed
	@command -v wrk >/dev/null || { echo "wrk is not installed: make system-packages (or apt-get install wrk)" >&2; exit 1; }

##@ Deploy

# Everything above for real: image, container, Compose stack, chart; smoke test against gunicorn, container, stack.
deploy-test: $(STAMP) $(DEPLOY_STAMP) $(CHECKOV_STAMP) ## all of the below for real: image, container, Compose stack, chart, smoke tests
	scripts/deploy/deploy-test.sh

# The service image, built with podman on a locally debootstrapped Debian (no registry here); prints its size.
# Elsewhere: docker build -t agno-session . (BASE defaults to python:3.12-slim).
image: ## the service image, built with podman
	scripts/deploy/image.sh

# PostgreSQL, migrate and the service on 127.0.0.1:$${AGNO_SESSION_PORT:-8080}, with random secrets made once in
# deploy/compose/secrets/. Elsewhere: docker compose -f docker-compose.session.yml up -d (same secret files).
compose-up: $(DEPLOY_STAMP) ## PostgreSQL, migrate and the service with Compose on 127.0.0.1:8080
	scripts/deploy/image.sh
	scripts/deploy/pg-image.sh
	scripts/deploy/compose-up.sh

# Random secrets for the Compose stack in deploy/compose/secrets/ (made once; `make compose-up` runs it too).
compose-secrets: ## the Compose stack's random secrets (made once)
	scripts/deploy/compose-secrets.sh

compose-down: $(DEPLOY_STAMP) ## stop the Compose stack
	CONTAINERS_CONF=$(CURDIR)/deploy/podman/containers.conf AGNO_SESSION_IMAGE=localhost/agno-session:dev \
		$(DEPLOY_VENV)/bin/podman-compose -p agno-session $(COMPOSE_FILES) down

# Render, lint, validate and scan the Helm chart; check that it refuses what it must.
chart: $(DEPLOY_STAMP) $(CHECKOV_STAMP) ## render, lint, validate and scan the Helm chart
	scripts/deploy/chart-test.sh

# The curl + jq smoke test against a running service: make smoke SMOKE_URL=http://host:port [OS_SECURITY_KEY=…]
smoke: ## the curl + jq smoke test against a running service (SMOKE_URL=…)
	@command -v jq >/dev/null || { echo "jq is not installed: make system-packages (or apt-get install jq)" >&2; exit 1; }
	scripts/test-session-api.sh $(SMOKE_URL)

deploy-tools: $(DEPLOY_STAMP) $(CHECKOV_STAMP) ## the deploy tools' virtualenvs (Helm's SDK, podman-compose, checkov…)
