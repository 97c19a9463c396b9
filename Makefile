# otai: the two commands a fresh machine needs are `make demo` and `make test`.
GO ?= go
PKGS := ./...
# Seconds each fuzz target runs in make fuzz and make test.
FUZZTIME ?= 8

.PHONY: demo test vet build fuzz bench

# Triage the embedded demo inbox once (local SQLite store, built-in model).
demo:
	$(GO) run ./cmd/otai run --once

# Every test: vet, the race-enabled test suite, then every fuzz target for
# FUZZTIME seconds each (make test FUZZTIME=0 skips fuzzing).
test: vet
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	@if [ "$(FUZZTIME)" != "0" ]; then $(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME); fi

vet:
	$(GO) vet $(PKGS)

# The version otai reports: the git tag or commit, "dev" outside a checkout.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# A static binary in ./bin/otai, stamped with VERSION.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X github.com/otai-dev/otai/internal/cli.Version=$(VERSION)" -o bin/otai ./cmd/otai

# Every native fuzz target (func Fuzz...), one after another, FUZZTIME
# seconds each; a crasher stays in the package's testdata/fuzz.
fuzz:
	GO=$(GO) ./scripts/fuzz.sh $(FUZZTIME)
