# firedrill — common tasks. `make test` is what CI runs (through .ci/run).
SHELL   := /bin/bash
GO      ?= go
BIN     ?= bin/firedrill
PKGS    ?= ./...

.PHONY: build test lint e2e bench fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/firedrill

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Unit and integration tests of every package with the race detector; the
# end-to-end rehearsals (root package) without it: they run a dozen real
# processes each, and race-instrumented fixtures on 2 cores would measure the
# detector, not the system.
MODULE   := $(shell $(GO) list -m)
test: lint
	$(GO) test -race -timeout 15m $$($(GO) list ./... | grep -vx '$(MODULE)')
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s -fuzzminimizetime 2s ./scenarios/
	$(GO) test -timeout 25m $(MODULE)

# The example scenarios end to end through the real binary.
e2e: build
	$(GO) test -run 'TestExamples|TestCLI' -v -timeout 15m .

# Speed and memory figures (not run by `make test`).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./traffic/ ./topology/... ./fixtures/... ./analysis/ ./observe/ ./simulator/... .
	for n in 5k 10k 20k 50k 20kBroken; do $(GO) test -run '^$$' -bench "Validate$$n\$$" -benchtime 1x ./scenarios/ | grep Benchmark; done

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s -fuzzminimizetime 5s ./scenarios/

clean:
	rm -rf bin out
