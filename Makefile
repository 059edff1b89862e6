# The two commands a newcomer needs (see README.md):
#   make demo   builds the lab and runs the real playbooks on part of the embedded demo register
#   make test   runs every check: lint, unit and inventory tests, every role's Molecule scenario
# Each installs what it needs first (Debian packages, the venv, the lab image); a second run reuses them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
CACHE := $(ROOT)/.cache
PYTHON ?= python3

# Everything the tools write goes under .cache/, nothing under /root.
export CONTAINERS_CONF := $(ROOT)/scripts/containers.conf
export ANSIBLE_HOME := $(CACHE)/ansible
export ANSIBLE_LOCAL_TEMP := $(CACHE)/ansible/tmp
export XDG_CACHE_HOME := $(CACHE)/xdg
export PATH := $(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

# Debian packages for the lab and the tests; installed only when one is missing.
# iptables: netavark sets up every container network with it ("netavark: No such file or directory").
# libreoffice-calc-nogui: the billing tests recompute the XLSX and ODS workbooks with a real engine.
DEBIAN_PACKAGES := podman runc debootstrap netavark aardvark-dns iptables iproute2 libreoffice-calc-nogui
# What the benchmarks compare on the host (make bench only).
BENCH_PACKAGES := restic rclone dnsdist tinycdb unbound squidguard dnsperf rsync time

ROLES_WITH_SCENARIOS = $(patsubst roles/%/molecule/default/molecule.yml,%,$(wildcard roles/*/molecule/default/molecule.yml))
# The scenarios `make test` (and so CI) runs: those seen passing a full `molecule test`. The others
# run with `make molecule-ROLE` or `make molecule-all` until they do (see the open issues).
# Longest first: `make test` runs them in TEST_JOBS lanes beside lint and unit, and a long scenario
# started last would leave one lane idle at the end.
GATED_SCENARIOS ?= workstation school_directory workstation_install backup_client web_filter radius_server \
    wifi_schedule antivirus agent_package school_sync common
# Lanes: a scenario spends much of its time waiting (apt, service starts and stops, timers), so two
# run side by side on two cores; each one's output is printed whole when it ends (--output-sync).
TEST_JOBS ?= 2
PENDING_SCENARIOS = $(filter-out $(GATED_SCENARIOS),$(ROLES_WITH_SCENARIOS))
DEMO_HOSTS ?= $(shell cat inventories/lab/demo-hosts 2>/dev/null)
LAB_IMAGE := localhost/schoolfleet-debian:12
# The server-side package (scripts/agent/): its version is the one in schoolfleet_agent/VERSION.
AGENT_VERSION := $(shell cat $(ROOT)/scripts/agent/schoolfleet_agent/VERSION)
AGENT_DEB := $(CACHE)/packages/schoolfleet-agent_$(AGENT_VERSION)_all.deb
AGENT_SOURCES := $(shell find $(ROOT)/scripts/agent -type f -not -path '*/__pycache__/*')

.PHONY: help deps apt-install venv image base-image demo demo-down test lint unit pytest unit-agent-debian package molecule molecule-all molecule-% bench clean

help:
	@echo "make demo    run the main job on the embedded demo register, against a local lab"
	@echo "make test    run every check (what CI runs)"
	@echo "make lint | unit | pytest | unit-agent-debian | package | molecule | molecule-ROLE | bench | demo-down | clean"

deps: $(CACHE)/deps.stamp
$(CACHE)/deps.stamp: Makefile
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(DEBIAN_PACKAGES)"
	@touch $@

apt-install:
	@mkdir -p $(CACHE)
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	    | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages: $$missing"; \
	    apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV)/.stamp
$(VENV)/.stamp: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	cd $(ROOT) && $(BIN)/ansible-galaxy collection install -r requirements.yml
	@touch $@

# The lab's images: the base (debootstrap) and one per role family, each only when its recipe changed.
image: deps venv
	$(BIN)/python -m schoolfleet.lab image

base-image: deps venv
	$(BIN)/python -m schoolfleet.lab image --base

# --- the main job -------------------------------------------------------------------------
demo: image package
	$(BIN)/python -m schoolfleet.demo

demo-down: venv
	$(BIN)/python -m schoolfleet.lab down

# --- the tests ----------------------------------------------------------------------------
# Two stages. First the images build (minutes when a recipe changed) while lint and the agent's
# tests under Debian's python3 run beside them.
# Then, with the images ready, the lanes start in the order given: the longest scenario and the
# unit tests first, so that no long job starts last and leaves a lane idle at the end (in one
# stage, make started them last, as soon as the images were done).
test: deps venv package
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target image lint unit-agent-debian; \
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target \
	    $(addprefix molecule-,$(firstword $(GATED_SCENARIOS))) pytest \
	    $(addprefix molecule-,$(wordlist 2,$(words $(GATED_SCENARIOS)),$(GATED_SCENARIOS))); \
	echo "make test: every check passed in $$(( $$(date +%s) - start )) s"
	@if [ -n "$(strip $(PENDING_SCENARIOS))" ]; then echo "Not in the gate yet: $(PENDING_SCENARIOS)"; fi

lint: venv
	$(ROOT)/scripts/check-vault-files $(ROOT)
	$(BIN)/yamllint --strict .
	$(BIN)/ruff check scripts plugins tests roles
	$(BIN)/ruff format --check scripts plugins tests roles
	$(BIN)/mypy
	$(BIN)/ansible-lint --profile production --offline

unit: unit-agent-debian pytest

# No prerequisite that is a job of its own: make test starts it at once in the second lane (with
# unit-agent-debian as a prerequisite, make started it last, after every scenario).
pytest: venv
	$(BIN)/pytest

# The agent's tests under Debian 12's own python3 in the lab image: on the source tree, then on the
# package installed from the .deb (dpkg -i in the throwaway container), then purged. The central
# blocklist mirror's fetch tests too: it runs on that python3 (3.11.2, no tarfile filters).
unit-agent-debian: base-image package
	podman run --rm --network none -v $(ROOT):/src:ro -w /src -e PYTHONDONTWRITEBYTECODE=1 $(LAB_IMAGE) \
	    sh -euc 'PYTHONPATH=scripts/agent python3 -m unittest discover -s tests/agent; \
	        python3 -m unittest discover -s tests/unit/blocklist -p "test_blocklist_mirror*.py"; \
	        dpkg -i /src/.cache/packages/$(notdir $(AGENT_DEB)) >/dev/null; \
	        schoolfleet-hwreport --help >/dev/null; \
	        systemd-analyze verify /lib/systemd/system/schoolfleet-hwreport*.service; \
	        SCHOOLFLEET_AGENT_INSTALLED=1 python3 -m unittest discover -s tests/agent; \
	        dpkg --purge schoolfleet-agent >/dev/null; test ! -e /usr/lib/python3/dist-packages/schoolfleet_agent'

# The schoolfleet-agent .deb, reproducible (see scripts/agent/build_deb.py).
package: $(AGENT_DEB)
$(AGENT_DEB): $(AGENT_SOURCES)
	$(PYTHON) $(ROOT)/scripts/agent/build_deb.py --out $(CACHE)/packages

molecule: image
	@set -e; for role in $(GATED_SCENARIOS); do $(MAKE) --no-print-directory molecule-$$role; done
	@if [ -n "$(strip $(PENDING_SCENARIOS))" ]; then echo "Not in the gate yet: $(PENDING_SCENARIOS)"; fi

molecule-all: image
	@set -e; for role in $(ROLES_WITH_SCENARIOS); do $(MAKE) --no-print-directory molecule-$$role; done

# Each scenario's job events are recorded as AWX would keep them (ansible-runner's awx_display
# callback, same screen output as the default one) and searched for the secrets the scenario
# handled (schoolfleet.event_scan). The search fails the scenario for those in EVENT_SCAN_ENFORCED:
# the scenarios that handle secrets, each seen clean. The others hold no fixture secret or slip yet
# ("nothing to check"): it only reports for them (issue #24, item 2).
EVENT_SCAN_ENFORCED ?= backup_client school_directory radius_server workstation
RUNNER_CALLBACKS = $(shell $(BIN)/python -c 'import ansible_runner.display_callback.callback as c, os; print(os.path.dirname(c.__file__))' 2>/dev/null)
molecule-%: image package
	@start=$$(date +%s); events=$(CACHE)/events/$*; rm -rf $$events; mkdir -p $$events; \
	cd roles/$* && SCHOOLFLEET_EVENTS_DIR=$$events AWX_ISOLATED_DATA_DIR=$$events \
	    ANSIBLE_CALLBACK_PLUGINS=$(RUNNER_CALLBACKS) ANSIBLE_STDOUT_CALLBACK=awx_display $(BIN)/molecule test; \
	cd $(ROOT) && if ! $(BIN)/python -m schoolfleet.event_scan $$events roles/$*/molecule/default; then \
	    case " $(EVENT_SCAN_ENFORCED) " in *" $* "*) exit 1;; *) echo "molecule-$*: event scan not enforced yet";; esac; fi; \
	echo "molecule-$*: passed in $$(( $$(date +%s) - start )) s"

# Benchmarks print ratios measured in one run; each takes minutes (see the issue notes for figures).
bench: image
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(BENCH_PACKAGES)"
	$(BIN)/python tests/bench/inventory_bench.py --sizes 120,1200
	@for b in $(filter-out tests/bench/inventory_bench.py,$(wildcard tests/bench/*.py)); do \
	    echo "== $$b"; $(BIN)/python $$b; done

clean:
	-$(BIN)/python -m schoolfleet.lab down
	rm -rf $(VENV) $(CACHE)
