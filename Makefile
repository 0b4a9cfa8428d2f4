# glancestore.s3proxy: the two commands are `make lab` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps test lint sanity units lab lab-down bench soak docs wheel build clean

help:
	@echo "make test      install what is needed, then run every nox session (lint, sanity, unit and integration tests)"
	@echo "make lab       bring up the local lab (Squid + S3, Glance reaches S3 only through Squid)"
	@echo "make lab-down  remove everything the lab started"
	@echo "make bench     measure what the proxy costs Glance (docs/benchmarks.md)"
	@echo "make soak      the reliability cases in their long form: faults, rotation, a 30-minute soak (docs/reliability.md)"
	@echo "make docs      regenerate docs/ from the code"
	@echo "make build     build the collection tarball"

NOX := .cache/venv-nox/bin/nox

deps:
	bash scripts/bootstrap.sh
	$(NOX) -s envs

# nox -j 2: the Docker lane beside everything else (noxfile.py). Every session runs even if an earlier one
# failed; the closing line counts the tests. KEEP_LAB=1 keeps the labs up afterwards.
test: deps
	rm -rf build/reports
	$(NOX) -j 2 --report build/reports/nox.json; rc=$$?; \
	  [ -n "$${KEEP_LAB:-}" ] || $(NOX) -s lab_down >/dev/null 2>&1; \
	  $(NOX) -s summary 2>/dev/null || rc=1; \
	  exit $$rc

lint sanity units: deps
	$(NOX) -s $@

lab: deps
	bash scripts/lab.sh up

lab-down:
	bash scripts/lab.sh down

bench: deps
	bash scripts/bench.sh

# SOAK_SECONDS=N sets the soak loop's length (default 1800). docs/reliability.* are rewritten when every case passes.
soak: deps
	$(NOX) -s soak

docs: deps
	bash scripts/gen-docs.sh

wheel: deps
	bash scripts/build-wheel.sh

build: deps
	.cache/venv-tools/bin/ansible-galaxy collection build --force --output-path build/

clean: lab-down
	rm -rf build .cache
