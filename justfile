# printdesk tasks. `just` lists them.

pg_url := env_var_or_default("PRINTDESK_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")

# List the recipes.
default:
    @just --list

# Serve on the embedded SQLite default (http://127.0.0.1:8080).
run:
    cargo run --release

# The test suite a newcomer runs: every crate, SQLite only (PostgreSQL tests say they were skipped).
test:
    cargo test --workspace --all-features

# The store, API and WebSocket suites against a real PostgreSQL server.
test-postgres:
    PRINTDESK_TEST_POSTGRES_URL={{pg_url}} cargo test --all-features -p printdesk-store-diesel -p printdesk-http -p printdesk-ws

# Each crate's tests on its own, as a crate that depends on it would build it.
test-each:
    for p in printdesk-domain printdesk-store-diesel printdesk-http printdesk-ws printdesk-frontend printdesk; do cargo test -p $p || exit 1; done

# The page in headless Chromium (Debian's chromium, playwright-core from npm).
test-browser:
    cargo build -p printdesk
    cd frontend && npm ci --no-audit --no-fund && node --test tests/

# PostgreSQL stopped under a running server, SIGTERM and kill -9 under a write load. Stopping
# the machine's PostgreSQL cluster breaks any other suite running meanwhile: CI runs this last.
# PRINTDESK_FAULT_PG_CLUSTER / PRINTDESK_TEST_POSTGRES_URL point it at a private cluster.

# Fault tests (docs/operations.md). Stops PostgreSQL: run alone, last; it is restarted however the run ends.
test-faults:
    #!/usr/bin/env bash
    set -euo pipefail
    version="${PRINTDESK_FAULT_PG_VERSION:-$(ls /etc/postgresql | sort -V | tail -n 1)}"
    cluster="${PRINTDESK_FAULT_PG_CLUSTER:-main}"
    restart_postgres() {
      pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >/dev/null 2>&1 || true
      for _ in $(seq 1 30); do pg_isready -q -d '{{pg_url}}' && return 0; sleep 1; done
      echo "test-faults: PostgreSQL ($version $cluster) did not come back" >&2
      return 1
    }
    # The tests run in a process group of their own: if they are killed, the servers they
    # started go with them.
    PRINTDESK_FAULT_TESTS=1 PRINTDESK_TEST_POSTGRES_URL='{{pg_url}}' setsid --wait \
      cargo test -p printdesk --test faults -- --test-threads=1 --nocapture &
    tests=$!
    trap 'kill -KILL -- "-$tests" 2>/dev/null || true; restart_postgres' EXIT
    trap 'exit 130' INT TERM
    wait "$tests"

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --all-features -- -D warnings

# Everything CI runs.
ci:
    bash .ci/run

# Benchmark (docs/performance.md): release server, fresh 100k-job SQLite + PostgreSQL DBs, wrk.
bench: _wrk
    cargo build --release -p printdesk -p printdesk-bench
    cargo run --release -q -p printdesk-bench -- run

# The benchmark's smoke mode for CI: 2,000 jobs, 1 s steps, SQLite, debug build; fails on errors.
bench-smoke: _wrk
    cargo build -p printdesk -p printdesk-bench
    cargo run -q -p printdesk-bench -- run --smoke

# One edit delivered to 1,000 WebSocket clients: p50/p99 from commit to receipt, SQLite and
# (with PostgreSQL reachable) two instances on one PostgreSQL database.
bench-ws:
    PRINTDESK_BENCH_POSTGRES_URL={{pg_url}} cargo bench -p printdesk-ws --bench fanout

# The fan-out benchmark's smoke mode for CI: 20 clients, 2 edits; fails if a delivery is missing.
bench-ws-smoke:
    SMOKE=1 PRINTDESK_BENCH_POSTGRES_URL={{pg_url}} cargo test -p printdesk-ws --bench fanout

# Micro-benchmarks of the domain's validation and patch application (criterion).
bench-domain:
    cargo bench -p printdesk-domain --bench domain

# Debian's wrk, the HTTP load generator the benchmark drives (installed when missing).
_wrk:
    @command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
