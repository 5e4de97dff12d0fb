# Packet Counter, multi-region. `make help` lists the targets.
# Every target bootstraps its own virtualenv (.venv) from constraints.txt on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config/config.yaml
OUT ?= out
FORMAT ?= json

RUNTIME := $(VENV)/.runtime-installed
LOCAL := $(VENV)/.local-installed
TUNE := $(VENV)/.tune-installed
DEV := $(VENV)/.dev-installed
GENERATOR := $(BIN)/python -m generator
# checkov: no network (no guideline download, no version check).
CHECKOV_ENV := BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false

.PHONY: help render validate lint test test-all format bench clean
.PHONY: deploy plan status destroy local-cloud
.PHONY: smoke local local-down local-up local-status demo tune
.PHONY: canary logs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

render: $(RUNTIME) ## render CONFIG (default config/config.yaml) into OUT (default out/)
	$(GENERATOR) render --config $(CONFIG) --out $(OUT) --format $(FORMAT)

validate: $(RUNTIME) ## check CONFIG and the size of what it renders
	$(GENERATOR) validate --config $(CONFIG)

TEMPLATES = $(OUT)/global.template.$(FORMAT) $(OUT)/regional.template.$(FORMAT)

lint: render $(DEV) ## cfn-lint and checkov on the rendered templates
	$(BIN)/cfn-lint $(TEMPLATES)
	$(CHECKOV_ENV) $(BIN)/checkov --quiet --compact --skip-download --framework cloudformation $(addprefix -f ,$(TEMPLATES))

# The tests run on every core (TEST_WORKERS=0 runs them in this process), a test file's tests in one worker
# (its module fixtures, such as the linted templates, are made once), and end with the ten slowest.
TEST_WORKERS ?= auto
PYTEST = $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=10

test: $(DEV) ## ruff, then every test (offline; property tests derandomized: the same examples each run)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PYTEST)

test-all: $(DEV) ## make test with many more property-test examples, new random ones each run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	HYPOTHESIS_PROFILE=thorough $(PYTEST)

format: $(DEV) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(DEV) ## print benchmark figures (no pass/fail); BENCH=name runs only matching ones
	$(BIN)/python -m benchmarks $(BENCH)

# Deploy: AWS_PROFILE (or PROFILE=) / AWS_REGION / AWS_ENDPOINT_URL as usual; REGIONS narrows, YES=1 skips the question.
REGIONS ?=
YES ?=
LOCAL_CLOUD_PORT ?= 4566
LOCAL_CLOUD_DELAY ?= 2
FAIL_REGION ?=
AWS_ARGS = $(if $(PROFILE),--profile $(PROFILE))
DEPLOY_ARGS = --config $(CONFIG) $(AWS_ARGS) $(if $(strip $(REGIONS)),--regions $(REGIONS))

deploy: $(RUNTIME) ## deploy the global stack, then REGIONS (default: all) in parallel; writes out/outputs.json
	$(GENERATOR) deploy $(DEPLOY_ARGS) --out $(OUT)

plan: $(RUNTIME) ## show what deploy would change, property by property (nothing is executed)
	@# exit 3 means "something would change": a finding, not a failure of make
	$(GENERATOR) plan $(DEPLOY_ARGS) --out $(OUT) || test $$? -eq 3

status: $(RUNTIME) ## per region: stack status, last update, function ARN; orphan stacks
	$(GENERATOR) status --config $(CONFIG) $(AWS_ARGS)

destroy: $(RUNTIME) ## delete REGIONS' stacks (default: all, orphans too), the global one last; YES=1 skips asking
	YES=$(YES) $(GENERATOR) destroy $(DEPLOY_ARGS) --out $(OUT)

local-cloud: $(LOCAL) ## offline AWS endpoint (moto + Proxylity stand-in) on 127.0.0.1:LOCAL_CLOUD_PORT until Ctrl-C
	$(GENERATOR) local-cloud --port $(LOCAL_CLOUD_PORT) --delay $(LOCAL_CLOUD_DELAY) \
		$(if $(FAIL_REGION),--fail-region $(FAIL_REGION))

# Real UDP traffic. HOST and PORT default to out/outputs.json (written by a deploy). Unset
# variables pass no flag, so the defaults live in one place: `python -m generator COMMAND --help`.
UDP_FLAGS = $(if $(PACKETS),-n $(PACKETS)) $(if $(RATE),--rate $(RATE)) $(if $(CLIENTS),--clients $(CLIENTS))
GATEWAY_FLAGS = --config $(CONFIG) --out $(OUT) $(if $(INGRESS),--ingress $(INGRESS)) $(foreach r,$(DOWN),--down $(r)) \
	$(if $(CONCURRENCY),--concurrency $(CONCURRENCY))
LOCAL_PORT_FLAG = $(if $(LOCAL_PORT),--port $(LOCAL_PORT))
NEEDS_REGION = $(if $(REGION),,$(error $@ needs REGION=..., e.g. make $@ REGION=us-west-2))

smoke: $(RUNTIME) ## send PACKETS to HOST:PORT and report replies per region and latency [RATE= CLIENTS=]
	$(GENERATOR) smoke $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT)) --outputs $(OUT)/outputs.json \
		$(UDP_FLAGS)

local: $(RUNTIME) ## local UDP Gateway on 127.0.0.1 and ::1, UDP port LOCAL_PORT [INGRESS= DOWN="r1 r2"]
	$(GENERATOR) local $(GATEWAY_FLAGS) $(LOCAL_PORT_FLAG)

local-down: $(RUNTIME) ## mark REGION down in the local gateway on LOCAL_PORT (the failover experiment)
	$(NEEDS_REGION)$(GENERATOR) local-control $(LOCAL_PORT_FLAG) down $(REGION)

local-up: $(RUNTIME) ## mark REGION up again in the local gateway on LOCAL_PORT
	$(NEEDS_REGION)$(GENERATOR) local-control $(LOCAL_PORT_FLAG) up $(REGION)

local-status: $(RUNTIME) ## which region serves the local gateway on LOCAL_PORT, and which are down
	$(GENERATOR) local-control $(LOCAL_PORT_FLAG) status

demo: $(RUNTIME) ## render, start a local gateway, send PACKETS through it, stop, print the results
	$(GENERATOR) demo $(GATEWAY_FLAGS) $(UDP_FLAGS)

# Batching measured, priced and drawn: RATE CLIENTS P99 SECONDS COUNTS="..." TIMEOUTS="..." APPLY=1 INGRESS= ADD_LATENCY=1.
# Unset variables pass no flag: the defaults live in `python -m generator tune --help`. COUNTS and TIMEOUTS, once
# given, pass as typed (read from the environment, so COUNTS="" is refused rather than taken as the default grid).
# A switch is on for 1 (yes, true), off for 0 (no, false) or unset; anything else stops make with one line.
switch = $(if $(filter 1 yes true,$($(1))),$(2),$(if $(filter-out 0 no false,$($(1))),$(error $(1)=$($(1)): expected 1 or 0)))
given = $(filter-out undefined default,$(origin $(1)))
TUNE_FLAGS = $(if $(RATE),--rate $(RATE)) $(if $(CLIENTS),--clients $(CLIENTS)) $(if $(P99),--p99 $(P99)) \
	$(if $(SECONDS),--seconds $(SECONDS)) $(if $(call given,COUNTS),--counts "$$COUNTS") \
	$(if $(call given,TIMEOUTS),--timeouts "$$TIMEOUTS") $(call switch,APPLY,--apply) \
	$(if $(INGRESS),--ingress $(INGRESS)) $(call switch,ADD_LATENCY,--add-latency)

tune: $(TUNE) ## measure batching settings (latency, invocations, Lambda cost), write out/tune.json + out/tune.png [APPLY=1]
	$(GENERATOR) tune --config $(CONFIG) --out $(OUT) $(TUNE_FLAGS)

# Watching production. The canary runs the canary function's own code once from here (HOST/PORT default to
# out/outputs.json); logs merges the functions' logs of REGIONS (default: all) in time order.
SINCE ?=
FOLLOW ?=
FILTER ?=

canary: $(RUNTIME) ## run the UDP canary once against HOST:PORT and print its EMF record [PACKETS=]
	$(GENERATOR) canary --config $(CONFIG) $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT)) \
		--outputs $(OUT)/outputs.json $(if $(PACKETS),-n $(PACKETS))

logs: $(RUNTIME) ## the counter's and canary's logs of REGIONS merged in time order [SINCE=10m FOLLOW=1 FILTER=...]
	@# FILTER is read from the environment by the shell, so quotes in a filter pattern pass through as typed
	$(GENERATOR) logs --config $(CONFIG) $(AWS_ARGS) $(if $(strip $(REGIONS)),--regions $(REGIONS)) \
		$(if $(SINCE),--since $(SINCE)) $(if $(FOLLOW),--follow) $(if $(FILTER),--filter "$$FILTER")

clean: ## remove out/ and the virtualenv
	rm -rf $(OUT) $(VENV) .pytest_cache .hypothesis .benchmarks .ruff_cache

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(LOCAL): pyproject.toml constraints.txt $(RUNTIME)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[local]'
	touch $@

$(TUNE): pyproject.toml constraints.txt $(RUNTIME)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[tune]'
	touch $@

$(DEV): pyproject.toml constraints.txt $(RUNTIME)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@
