# Ferrodis — the two commands a new machine needs: `make run` and `make test`.
CARGO ?= cargo

.PHONY: run build release test lint fmt bench bench-compare hit-ratio fuzz clean

## Build the server (release) and start it on redis.conf.example.
run: release
	./target/release/ferrodis-server redis.conf.example

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --release -p ferrodis-server

## Every test: unit, property, integration, real clients and differential against redis-server.
test:
	$(CARGO) test --workspace

## Formatting and lints as CI wants them.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## criterion micro-benchmarks (codec, keyspace).
bench:
	$(CARGO) bench -p ferrodis-benches

## redis-benchmark against Ferrodis and the reference redis-server in one run; writes BENCHMARKS.md.
bench-compare: release
	$(CARGO) run --release -p ferrodis-benches --bin bench-compare -- --write BENCHMARKS.md
	$(CARGO) run --release -p ferrodis-benches --bin bench-memory -- --write BENCHMARKS.md
	$(CARGO) run --release -p ferrodis-benches --bin bench-broker -- --write BENCHMARKS.md
	$(CARGO) run --release -p ferrodis-benches --bin bench-persistence -- --write BENCHMARKS.md

## Cache hit ratio of allkeys-lru/allkeys-lfu eviction, Ferrodis vs redis-server (not in `test`).
## Smaller run: make hit-ratio HIT_RATIO_ARGS="--keys 20000 --ops 200000 --cache-mb 2"
HIT_RATIO_ARGS ?=
hit-ratio: release
	$(CARGO) run --release -p ferrodis-benches --bin hit-ratio -- $(HIT_RATIO_ARGS)

## Run the fuzz targets for a fixed number of iterations (needs cargo-fuzz and nightly).
fuzz:
	cd crates/resp/fuzz && cargo fuzz run request_decoder -- -runs=2000000
	cd crates/resp/fuzz && cargo fuzz run frame_decoder -- -runs=2000000
	cd crates/persistence/fuzz && cargo fuzz run rdb_loader -- -runs=500000 -malloc_limit_mb=256
	cd crates/persistence/fuzz && cargo fuzz run dump_restore -- -runs=500000 -malloc_limit_mb=256
	cd crates/persistence/fuzz && cargo fuzz run aof_stream -- -runs=500000 -malloc_limit_mb=256
	cd crates/persistence/fuzz && cargo fuzz run aof_manifest -- -runs=500000

clean:
	$(CARGO) clean
