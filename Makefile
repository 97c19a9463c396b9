# otai: the two commands a fresh machine needs are `make demo` and `make test`.
GO ?= go
PKGS := ./...

.PHONY: demo test vet build fuzz bench

# Triage the embedded demo inbox once (local SQLite store, built-in model).
demo:
	$(GO) run ./cmd/otai run --once

# Every test: vet, then the race-enabled test suite.
test: vet
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

# A static binary in ./bin/otai.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/otai ./cmd/otai
