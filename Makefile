# Thin wrapper: the logic lives in scripts/*.sh.
#   make test    deps + gofmt, vet, tidy check, staticcheck, go test -race against a
#                throwaway PostgreSQL on 127.0.0.1:$(PG_PORT) (always stopped afterwards)
#   make bench   deps + the same throwaway PostgreSQL + benchmarks only
#   make build   static binary ./firebreak
#   make run     go run ./cmd/firebreak $(ARGS)
#   make deps    apt-get install what is missing (root; Debian/Ubuntu)
# Variables: PG_PORT (default 55433, or $FIREBREAK_TEST_PG_PORT), TEST_FLAGS, PKGS,
# BENCH, BENCHTIME, ARGS. CI=true is passed through to the tests.
SHELL := /bin/bash
GO ?= go

PG_PORT ?= $(or $(FIREBREAK_TEST_PG_PORT),55433)
PKGS ?= ./...
TEST_FLAGS ?=
BENCH ?= .
BENCHTIME ?= 1s
ARGS ?=

export FIREBREAK_TEST_PG_PORT := $(PG_PORT)
export PKGS TEST_FLAGS BENCH BENCHTIME

.PHONY: test bench build run deps

test:
	@bash scripts/test.sh

bench:
	@bash scripts/bench.sh

build:
	CGO_ENABLED=0 $(GO) build -o firebreak ./cmd/firebreak

run:
	$(GO) run ./cmd/firebreak $(ARGS)

deps:
	@bash scripts/deps.sh
