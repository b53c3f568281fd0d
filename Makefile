# cloud1.iaas: every entry point installs what is missing first (scripts/install-deps.sh is idempotent).
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODES ?= 3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
export CLOUD1_CACHE ?= /var/cache/cloud1-iaas
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/build/collections:$(CLOUD1_CACHE)/collections/current
export ANSIBLE_CONFIG := $(CURDIR)/tests/ansible.cfg
export PATH := $(VENV)/bin:$(PATH)

.PHONY: help deps image box-up box-down box-status collection test test-unit test-sanity \
        test-integration test-box demo stress clean

help:
	@echo "make demo                  install, bring up the cluster-in-a-box, createvm.yml a VM on it"
	@echo "make test                  install, run every test tier (unit, sanity, test driver, box)"
	@echo "make box-up NODES=n        n nodes (default 3) as systemd-nspawn containers; .box/inventory.yml"
	@echo "make box-down              stop the box, leave no process, mount or link behind"
	@echo "make image                 build (or reuse) the Debian guest image"
	@echo "make deps                  only install what is missing (apt, .venv, offline wheelhouse)"
	@echo "make stress [COUNT=20]     COUNT concurrent createvm runs on the converged box (make demo first); not CI"

deps:
	@bash scripts/install-deps.sh

image: deps
	@$(PY) tools/image/build.py

box-up: deps
	@$(PY) tools/box/box.py up --nodes $(NODES)

box-down:
	@python3 tools/box/box.py down

box-status:
	@python3 tools/box/box.py status

# the collection as users get it: built into a tarball, installed into a collections path
collection: deps
	@bash scripts/collection.sh

test: deps collection
	@bash scripts/test.sh all

test-unit test-sanity test-integration test-box: deps collection
	@bash scripts/test.sh $(subst test-,,$@)

demo: deps image collection
	@$(PY) tools/box/box.py up --nodes $(NODES)
	@ansible-playbook -i .box/inventory.yml tests/box/demo.yml

COUNT ?= 20
stress: deps collection
	@cd tests/box && $(PY) stress.py --count $(COUNT)

clean: box-down
	rm -rf build tests/output
