# visad — two commands on a fresh machine with only Go: `make run`, `make test`.
GO        ?= go
BIN       ?= bin/visad
PKGS      := ./...

.PHONY: run build test vet bench fuzz fuzz-brief clean chaos chaos-short lines soak

## run: everything in one process — embedded Temporal (SQLite file), app DB, worker, API
run: build
	./$(BIN) dev

## build: compile the visad binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/visad

## test: vet and run every test (Postgres store tests run when VISA_TEST_POSTGRES_URL is set)
test: vet
	$(GO) test -count=1 -timeout 30m $(PKGS)
	$(MAKE) fuzz-brief

## fuzz-brief: every fuzz target for a few seconds (part of make test; seeds also run in go test).
## The full-stack tests live in internal/e2e, so no fuzz target compiles the Temporal server.
fuzz-brief:
	$(GO) test -run '^$$' -fuzz '^FuzzParseTD3$$' -fuzztime 3s ./domain/
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime 3s ./domain/
	$(GO) test -run '^$$' -fuzz '^FuzzParseBatchCSV$$' -fuzztime 3s ./domain/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeJSON$$' -fuzztime 3s ./api/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 3s ./internal/vds/

vet:
	$(GO) vet $(PKGS)

## lines: shorten Go lines over 120 characters (a tab counts 1), as TestLinesWithin120 wants;
## long strings and comments it cannot split are left for a hand, and the test names them
lines:
	$(GO) run github.com/segmentio/golines@v0.13.0 -m 120 -t 1 --base-formatter=gofmt --no-reformat-tags -w \
		$$(git ls-files '*.go' | grep -v /testdata/)

## bench: every P-figure against its baseline, measured in the same run; lists each target's PASS/FAIL
## at the end and fails if a target or a benchmark failed (the output is kept in BENCH_OUT)
BENCH_OUT ?= bin/bench.txt
bench:
	@mkdir -p $(dir $(BENCH_OUT))
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 120m ./bench/ 2>&1 | tee $(BENCH_OUT)
	@echo "== targets (full output: $(BENCH_OUT)) =="; grep ' target ' $(BENCH_OUT) || true
	@if grep -Eq '^(--- )?FAIL|^panic:|^P[0-9a-z]+ target .* FAIL$$' $(BENCH_OUT); then \
		echo "make bench: FAIL"; exit 1; fi; echo "make bench: every target PASS"

## fuzz: run each fuzz target for a while (FUZZTIME, default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseTD3$$' -fuzztime $(FUZZTIME) ./domain/
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME) ./domain/
	$(GO) test -run '^$$' -fuzz '^FuzzParseBatchCSV$$' -fuzztime $(FUZZTIME) ./domain/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeJSON$$' -fuzztime $(FUZZTIME) ./api/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/vds/

## chaos: Temporal + PostgreSQL + 2 workers + 2 APIs on loopback, 1,000 applications while
## processes are killed (R1), Temporal restarts (R2) and PostgreSQL stops for 30 s (R3); checks nothing is lost
chaos: build
	$(GO) run ./cmd/chaos -bin $(BIN) $(CHAOSFLAGS)

## chaos-short: the same with -short, as .ci/run makes it after make test: 100 singles and a 20-row batch,
## R1 and R2 as above and PostgreSQL stopped for 10 s; about three minutes
chaos-short: build
	$(GO) run ./cmd/chaos -bin $(BIN) -short $(CHAOSFLAGS)

## histories: re-record the workflow histories the replay tests read (docs/replay.md), then replay them
.PHONY: histories
histories:
	VISA_RECORD_HISTORIES=1 $(GO) test -count=1 -run '^TestRecordHistories$$' -v ./workflows/
	$(GO) test -count=1 -run '^(TestReplay|TestRecordedHistories|TestEveryRegistered)' ./workflows/

clean:
	rm -rf bin data

## soak: ten minutes of mixed traffic (applicants, status lookups, chamber batches, an officer, portal pages)
## at 70 % of the capacity measured first, against `visad dev` run from bin/visad; fails on any 5xx, a lost or
## duplicated case, p99 drifting upward or RSS still growing (docs/testing.md). SOAK_DURATION=1m for a smoke test
soak: build
	$(GO) run ./cmd/soak -bin $(BIN) $(SOAKFLAGS)
