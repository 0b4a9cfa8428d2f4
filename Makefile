# glancestore.s3proxy: the two commands are `make lab` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps test lint sanity units lab lab-down bench docs wheel build clean

help:
	@echo "make test      install what is needed, then lint, sanity, unit and integration tests"
	@echo "make lab       bring up the local lab (Squid + S3, Glance reaches S3 only through Squid)"
	@echo "make lab-down  remove everything the lab started"
	@echo "make bench     measure what the proxy costs Glance (docs/benchmarks.md)"
	@echo "make docs      regenerate docs/ from the code"
	@echo "make build     build the collection tarball"

deps:
	bash scripts/bootstrap.sh

test: deps
	bash scripts/test.sh

lint: deps
	STEPS=lint bash scripts/test.sh

sanity: deps
	STEPS=sanity bash scripts/test.sh

units: deps
	STEPS=units bash scripts/test.sh

lab: deps
	bash scripts/lab.sh up

lab-down:
	bash scripts/lab.sh down

bench: deps
	bash scripts/bench.sh

docs: deps
	bash scripts/gen-docs.sh

wheel: deps
	bash scripts/build-wheel.sh

build: deps
	.cache/venv-tools/bin/ansible-galaxy collection build --force --output-path build/

clean: lab-down
	rm -rf build .cache
