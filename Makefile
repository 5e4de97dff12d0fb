# Packet Counter, multi-region. `make help` lists the targets.
# Every target bootstraps its own virtualenv (.venv) from constraints.txt on first use.

PYTHON ?= python3
VENV ?= .venv
CONFIG ?= config/config.yaml
OUT ?= out
FORMAT ?= json
LOCAL_CLOUD_PORT ?= 4566
LOCAL_CLOUD_DELAY ?= 2
TEST_WORKERS ?= auto

# The variables a user sets (make render CONFIG="/tmp/my dir/config.yaml"). Each reaches the CLI as one argument,
# exactly as typed: taken literally (make expands no `$(...)` in it), exported as ARG_NAME, and written "$$ARG_NAME"
# in the recipes, so that the shell neither runs, splits nor globs it (the prefix: bash, /bin/sh on macOS, keeps
# its own SECONDS). Unset or empty, a variable passes no flag (the defaults live in `python -m generator COMMAND
# --help`), except where noted: REGIONS, COUNTS and TIMEOUTS once given are passed.
USER_VARIABLES := CONFIG ENV OUT FORMAT BENCH REGIONS YES PROFILE LOCAL_CLOUD_PORT LOCAL_CLOUD_DELAY FAIL_REGION \
	LOCAL_CLOUD_CONCURRENCY CLOCK_SPEED FAILOVER KEEP \
	HOST PORT PACKETS RATE CLIENTS INGRESS DOWN CONCURRENCY LOCAL_PORT REGION P99 SECONDS COUNTS TIMEOUTS APPLY \
	ADD_LATENCY SINCE FOLLOW FILTER PYTHON VENV TEST_WORKERS
# Given on the command line or in the environment, even empty: read before the values are made literal below.
given = $(filter command environment,$(firstword $(origin $(1))))
$(foreach name,$(USER_VARIABLES),$(eval GIVEN_$(name) := $(call given,$(name))))
# make expands a variable set on the command line when it exports it, which runs a `$(shell ...)` in it even when
# no recipe uses the variable: every one is made literal first, then ours (from the environment too).
$(foreach name,$(.VARIABLES),$(if $(filter command,$(firstword $(origin $(name)))),$(eval override $(name) := $$(value $(name)))))
$(foreach name,$(USER_VARIABLES),$(eval override $(name) := $$(value $(name))))
# ENV=prod without OUT: the environment's own out/prod (the CLI's default too), never the base's out/.
$(if $(ENV),$(if $(GIVEN_OUT),,$(eval override OUT := out/$$(value ENV))))
$(foreach name,$(USER_VARIABLES),$(eval export ARG_$(name) := $$(value $(name))))
# The virtualenv's bin folder (BIN=... picks another, as the tests do), passed the same way.
BIN := $(VENV)/bin
export ARG_BIN := $(BIN)

RUNTIME := $(VENV)/.runtime-installed
LOCAL := $(VENV)/.local-installed
TUNE := $(VENV)/.tune-installed
DEV := $(VENV)/.dev-installed
GENERATOR = "$$ARG_BIN/python" -m generator
# checkov: no network (no guideline download, no version check).
CHECKOV_ENV := BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false

.PHONY: help render validate lint test test-all format bench clean
.PHONY: deploy plan drift status destroy local-cloud
.PHONY: smoke local local-down local-up local-status demo tune
.PHONY: canary logs e2e local-names

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# ENV=name: the environment of that name, environments/NAME.yaml beside CONFIG laid over it (OUT: out/NAME).
ENV_ARG = $(if $(ENV),--env="$$ARG_ENV")
CONFIG_ARGS = --config="$$ARG_CONFIG" $(ENV_ARG)

render: $(RUNTIME) ## render CONFIG (default config/config.yaml) [ENV=name] into OUT (default out/, out/ENV)
	$(GENERATOR) render $(CONFIG_ARGS) --out="$$ARG_OUT" --format="$$ARG_FORMAT"

validate: $(RUNTIME) ## check CONFIG and the size of what it renders
	$(GENERATOR) validate $(CONFIG_ARGS)

TEMPLATES = "$$ARG_OUT/global.template.$$ARG_FORMAT" "$$ARG_OUT/regional.template.$$ARG_FORMAT"

lint: render $(DEV) ## cfn-lint and checkov on the rendered templates
	"$$ARG_BIN/cfn-lint" $(TEMPLATES)
	$(CHECKOV_ENV) "$$ARG_BIN/checkov" --quiet --compact --skip-download --framework cloudformation $(addprefix -f ,$(TEMPLATES))

# The tests run in two workers per core (tests/conftest.py; TEST_WORKERS=0 runs them in this process), a test
# file's tests in one worker (its module fixtures, such as the linted templates, are made once), and end with the
# ten slowest. Compiled bytecode is kept in .pycache/ even where the environment sets PYTHONDONTWRITEBYTECODE:
# otherwise every worker, and every command a test runs, compiles the same modules again (collecting the tests
# alone takes 5.4 s of CPU per worker instead of 3.0 s).
PYTEST = env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX="$$(pwd)/.pycache" \
	"$$ARG_BIN/python" -m pytest -n "$$ARG_TEST_WORKERS" --dist loadfile --durations=10

test: $(DEV) ## ruff, then every test (offline; property tests derandomized: the same examples each run)
	"$$ARG_BIN/ruff" check .
	"$$ARG_BIN/ruff" format --check .
	$(PYTEST)

test-all: $(DEV) ## make test with many more property-test examples, new random ones each run
	"$$ARG_BIN/ruff" check .
	"$$ARG_BIN/ruff" format --check .
	HYPOTHESIS_PROFILE=thorough $(PYTEST)

format: $(DEV) ## apply ruff's fixes and formatting
	"$$ARG_BIN/ruff" check --fix .
	"$$ARG_BIN/ruff" format .

bench: $(DEV) ## print benchmark figures (no pass/fail); BENCH=name runs only matching ones
	"$$ARG_BIN/python" -m benchmarks $(if $(BENCH),"$$ARG_BENCH")

# Deploy: AWS_PROFILE (or PROFILE=) / AWS_REGION / AWS_ENDPOINT_URL as usual; REGIONS narrows, YES=1 skips the question.
# REGIONS once given is passed, even empty or blank: the CLI refuses what names no region (never "all of them").
AWS_ARGS = $(if $(PROFILE),--profile="$$ARG_PROFILE")
REGIONS_ARG = $(if $(GIVEN_REGIONS),--regions="$$ARG_REGIONS")
DEPLOY_ARGS = $(CONFIG_ARGS) $(AWS_ARGS) $(REGIONS_ARG)
# YES reaches the CLI as --yes (only ARG_YES is in the recipes' environment, and the CLI reads YES).
YES_FLAG = $(call switch,YES,--yes)

deploy: $(RUNTIME) ## deploy the global stack, then REGIONS (default: all) in parallel; writes out/outputs.json
	$(GENERATOR) deploy $(DEPLOY_ARGS) --out="$$ARG_OUT" $(YES_FLAG)

plan: $(RUNTIME) ## show what deploy would change, property by property (nothing is executed)
	@# exit 3 means "something would change": a finding, not a failure of make
	$(GENERATOR) plan $(DEPLOY_ARGS) --out="$$ARG_OUT" || test $$? -eq 3

drift: $(RUNTIME) ## what was changed outside CloudFormation, per resource and property (make says "Error 3" when drifted)
	@# the CLI exits 3 when something drifted, 1 when a stack could not be checked; make itself then exits 2,
	@# naming the CLI's status ("Error 3"): `python -m generator drift` gives the status itself
	$(GENERATOR) drift $(DEPLOY_ARGS) --out="$$ARG_OUT"

status: $(RUNTIME) ## per region: stack status, last update, function ARN; orphan stacks
	$(GENERATOR) status $(CONFIG_ARGS) $(AWS_ARGS)

destroy: $(RUNTIME) ## delete REGIONS' stacks (default: all, orphans too), the global one last; YES=1 skips asking
	$(GENERATOR) destroy $(DEPLOY_ARGS) --out="$$ARG_OUT" $(YES_FLAG)

local-cloud: $(LOCAL) ## offline AWS endpoint (moto + Proxylity stand-in) serving its listeners until Ctrl-C [INGRESS= CLOCK_SPEED=]
	$(GENERATOR) local-cloud --port="$$ARG_LOCAL_CLOUD_PORT" --delay="$$ARG_LOCAL_CLOUD_DELAY" \
		$(if $(FAIL_REGION),--fail-region="$$ARG_FAIL_REGION") \
		$(if $(LOCAL_CLOUD_CONCURRENCY),--lambda-concurrency="$$ARG_LOCAL_CLOUD_CONCURRENCY") \
		$(if $(INGRESS),--ingress="$$ARG_INGRESS") $(if $(CLOCK_SPEED),--clock-speed="$$ARG_CLOCK_SPEED")

local-names: $(RUNTIME) ## the running local cloud's listener names as /etc/hosts lines
	$(GENERATOR) local-names

# Real UDP traffic. HOST and PORT default to out/outputs.json (written by a deploy).
UDP_FLAGS = $(if $(PACKETS),--packets="$$ARG_PACKETS") $(if $(RATE),--rate="$$ARG_RATE") \
	$(if $(CLIENTS),--clients="$$ARG_CLIENTS")
GATEWAY_FLAGS = $(CONFIG_ARGS) --out="$$ARG_OUT" $(if $(INGRESS),--ingress="$$ARG_INGRESS") \
	$(if $(DOWN),--down="$$ARG_DOWN") $(if $(CONCURRENCY),--concurrency="$$ARG_CONCURRENCY")
LOCAL_PORT_FLAG = $(if $(LOCAL_PORT),--port="$$ARG_LOCAL_PORT")
NEEDS_REGION = $(if $(REGION),,$(error $@ needs REGION=..., e.g. make $@ REGION=us-west-2))

smoke: $(RUNTIME) ## send PACKETS to HOST:PORT and report replies per region and latency [RATE= CLIENTS=]
	$(GENERATOR) smoke $(if $(HOST),--host="$$ARG_HOST") $(if $(PORT),--port="$$ARG_PORT") \
		--outputs="$$ARG_OUT/outputs.json" $(UDP_FLAGS)

local: $(RUNTIME) ## local UDP Gateway on 127.0.0.1 and ::1, UDP port LOCAL_PORT [INGRESS= DOWN="r1 r2"]
	$(GENERATOR) local $(GATEWAY_FLAGS) $(LOCAL_PORT_FLAG)

# "--": REGION is a word of the command, never an option, whatever it starts with.
local-down: $(RUNTIME) ## mark REGION down in the local gateway on LOCAL_PORT (the failover experiment)
	$(NEEDS_REGION)$(GENERATOR) local-control $(LOCAL_PORT_FLAG) -- down "$$ARG_REGION"

local-up: $(RUNTIME) ## mark REGION up again in the local gateway on LOCAL_PORT
	$(NEEDS_REGION)$(GENERATOR) local-control $(LOCAL_PORT_FLAG) -- up "$$ARG_REGION"

local-status: $(RUNTIME) ## which region serves the local gateway on LOCAL_PORT, and which are down
	$(GENERATOR) local-control $(LOCAL_PORT_FLAG) status

demo: $(RUNTIME) ## render, start a local gateway, send PACKETS through it, stop, print the results
	$(GENERATOR) demo $(GATEWAY_FLAGS) $(UDP_FLAGS)

# Batching measured, priced and drawn: RATE CLIENTS P99 SECONDS COUNTS="..." TIMEOUTS="..." APPLY=1 INGRESS= ADD_LATENCY=1.
# COUNTS and TIMEOUTS, once given, are passed (so COUNTS="" is refused rather than taken as the default grid).
# A switch is on for 1 (yes, true), off for 0 (no, false) or unset; anything else stops make with one line.
switch = $(if $(filter 1 yes true,$($(1))),$(2),$(if $(filter-out 0 no false,$($(1))),$(error $(1)=$($(1)): expected 1 or 0)))
TUNE_FLAGS = $(if $(RATE),--rate="$$ARG_RATE") $(if $(CLIENTS),--clients="$$ARG_CLIENTS") $(if $(P99),--p99="$$ARG_P99") \
	$(if $(SECONDS),--seconds="$$ARG_SECONDS") $(if $(GIVEN_COUNTS),--counts="$$ARG_COUNTS") \
	$(if $(GIVEN_TIMEOUTS),--timeouts="$$ARG_TIMEOUTS") $(call switch,APPLY,--apply) \
	$(if $(INGRESS),--ingress="$$ARG_INGRESS") $(call switch,ADD_LATENCY,--add-latency)

tune: $(TUNE) ## measure batching settings (latency, invocations, Lambda cost), write out/tune.json + out/tune.png [APPLY=1]
	$(GENERATOR) tune $(CONFIG_ARGS) --out="$$ARG_OUT" $(TUNE_FLAGS)

# Watching production. The canary runs the canary function's own code once from here (HOST/PORT default to
# out/outputs.json); logs merges the functions' logs of REGIONS (default: all) in time order.
canary: $(RUNTIME) ## run the UDP canary once against HOST:PORT and print its EMF record [PACKETS=]
	$(GENERATOR) canary $(CONFIG_ARGS) $(if $(HOST),--host="$$ARG_HOST") $(if $(PORT),--port="$$ARG_PORT") \
		--outputs="$$ARG_OUT/outputs.json" $(if $(PACKETS),--packets="$$ARG_PACKETS")

logs: $(RUNTIME) ## the counter's, canary's and delivery-error logs of REGIONS merged in time order [SINCE=10m FOLLOW=1 FILTER=...]
	$(GENERATOR) logs $(CONFIG_ARGS) $(AWS_ARGS) $(REGIONS_ARG) \
		$(if $(SINCE),--since="$$ARG_SINCE") $(call switch,FOLLOW,--follow) $(if $(FILTER),--filter="$$ARG_FILTER")

# The whole cycle: deploy, traffic, the failover drill (FAILOVER=REGION, or serving), destroy unless KEEP=1.
e2e: $(RUNTIME) ## deploy, check every packet is answered, [FAILOVER=REGION drill], destroy unless KEEP=1; out/e2e.json + .xml
	$(GENERATOR) e2e $(DEPLOY_ARGS) --out="$$ARG_OUT" $(if $(FAILOVER),--failover="$$ARG_FAILOVER") \
		$(call switch,KEEP,--keep) $(if $(PACKETS),--packets="$$ARG_PACKETS") $(YES_FLAG)

clean: ## remove out/ and the virtualenv
	rm -rf -- "$$ARG_OUT" "$$ARG_VENV" .pytest_cache .pycache .hypothesis .benchmarks .ruff_cache

$(BIN)/python:
	"$$ARG_PYTHON" -m venv "$$ARG_VENV"

$(RUNTIME): pyproject.toml constraints.txt | $(BIN)/python
	"$$ARG_BIN/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch "$$ARG_VENV/.runtime-installed"

$(LOCAL): pyproject.toml constraints.txt $(RUNTIME)
	"$$ARG_BIN/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[local]'
	touch "$$ARG_VENV/.local-installed"

$(TUNE): pyproject.toml constraints.txt $(RUNTIME)
	"$$ARG_BIN/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[tune]'
	touch "$$ARG_VENV/.tune-installed"

$(DEV): pyproject.toml constraints.txt $(RUNTIME)
	"$$ARG_BIN/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch "$$ARG_VENV/.dev-installed"
