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

# The store, API and WebSocket suites against a real PostgreSQL server; and the binary's
# PostgreSQL tests (two monitoring instances, printer deletion under edits through two
# instances, start-up errors naming a missing database).
test-postgres:
    PRINTDESK_TEST_POSTGRES_URL={{pg_url}} cargo test --all-features -p printdesk-store-diesel -p printdesk-http -p printdesk-ws -p printdesk-app
    PRINTDESK_TEST_POSTGRES_URL={{pg_url}} cargo test -p printdesk --test monitor_instances --test lock_order --test reliability

# Each crate's tests on its own, as a crate that depends on it would build it.
test-each:
    for p in printdesk-domain printdesk-secrets printdesk-store-diesel printdesk-http printdesk-ws printdesk-monitor printdesk-frontend printdesk-app printdesk; do cargo test -p $p || exit 1; done

# The page in headless Chromium (Debian's chromium, playwright-core from npm), with a simulated
# Bambu Lab printer on Debian's mosquitto (installed when missing) for the monitoring tests.
test-browser: _mosquitto
    cargo build -p printdesk
    cargo build -p printdesk-monitor --features simulator --example simulated_bambu
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
    run() {
      PRINTDESK_FAULT_TESTS=1 PRINTDESK_TEST_POSTGRES_URL='{{pg_url}}' setsid --wait \
        cargo test -p printdesk --test faults -- --test-threads=1 --nocapture "$@" &
      tests=$!
      wait "$tests"
    }
    tests=
    trap '[ -n "$tests" ] && kill -KILL -- "-$tests" 2>/dev/null || true; restart_postgres' EXIT
    trap 'exit 130' INT TERM
    run --skip sigterm
    # Known flaky since 2026-11-28 (SQLite group commit): about one run in five, one of the
    # requests held half-sent across SIGTERM is closed without an answer (CHANGELOG, "Known
    # problems"). It gets three attempts; each failure is printed in full.
    for attempt in 1 2 3; do
      if run sigterm; then exit 0; fi
      echo "test-faults: the SIGTERM test failed (attempt $attempt of 3)" >&2
    done
    exit 1

# schemathesis (pinned; installed into a virtualenv of its own on first use) against a debug
# server's /api/openapi.json, on a fresh SQLite database seeded with printers and jobs
# (tests/schemathesis/): the job and printer endpoints, every check of
# tests/schemathesis/schemathesis.toml (no 5xx, every status, header, content type and body as
# documented, invalid input refused, tokens enforced). Exits non-zero on any failure; the
# server is always stopped. PRINTDESK_SCHEMA_EXAMPLES (default 200) sets the examples per
# operation and PRINTDESK_SCHEMA_SEED (default fixed, so CI is reproducible) the seed; `db` may
# name another empty database (e.g. a fresh PostgreSQL one). `POST /printers/test` is left out: it
# connects to the address in its body, and a fuzzer's addresses are not loopback (the API suite
# tests it, on loopback).

# Fuzz the job and printer endpoints against the OpenAPI document (schemathesis; docs/api.md).
test-schema db="":
    #!/usr/bin/env bash
    set -euo pipefail
    version=4.32.5
    venv="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/printdesk/schemathesis-$version"
    if ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
      echo "test-schema: installing schemathesis $version into $venv"
      rm -rf "$venv"
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
    fi
    cargo build -p printdesk
    target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    work=$(mktemp -d)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    base="http://127.0.0.1:$port"
    # A token the run authenticates with, so that the checks of authentication run too.
    token="pd_schemathesis_$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
    db='{{db}}'
    db="${db:-sqlite://$work/schema.db}"
    # PRINTDESK_MONITOR=false: the fuzzer creates printers with made-up addresses, which a
    # running monitor would try to reach.
    (cd "$work" && exec env -u PRINTDESK_TOKENS_FILE -u PRINTDESK_CORS_ORIGINS \
      PRINTDESK_DATABASE_URL="$db" PRINTDESK_BIND="127.0.0.1:$port" \
      PRINTDESK_API_TOKENS="schemathesis:$hash" PRINTDESK_WORKERS=2 PRINTDESK_MONITOR=false \
      "$target/debug/printdesk" >"$work/server.log" 2>&1) &
    server=$!
    stop() {
      kill "$server" 2>/dev/null || true
      wait "$server" 2>/dev/null || true
      rm -rf "$work"
    }
    trap stop EXIT
    trap 'exit 130' INT TERM
    ready() { python3 -c "import urllib.request as u; u.urlopen('$base/readyz', timeout=1)" 2>/dev/null; }
    for _ in $(seq 1 100); do
      ready && break
      kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
      sleep 0.2
    done
    ready || { echo "test-schema: the server did not get ready" >&2; cat "$work/server.log" >&2; exit 1; }
    python3 tests/schemathesis/seed.py "$base" "$token" "$work/schemathesis.toml"
    status=0
    # From the work directory, so that nothing schemathesis writes lands in the repository.
    (cd "$work" && exec "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" \
      run "$base/api/openapi.json" \
      --header "Authorization: Bearer $token" \
      --include-path-regex '^/api/v1/(jobs|printers)' \
      --exclude-path '/api/v1/printers/test' \
      --max-examples "${PRINTDESK_SCHEMA_EXAMPLES:-200}" \
      --seed "${PRINTDESK_SCHEMA_SEED:-20261128}" \
      --no-color) || status=$?
    if [ "$status" -ne 0 ] && grep -q -i "panicked" "$work/server.log"; then
      echo "--- server log (panics) ---" >&2
      grep -i -A5 "panicked" "$work/server.log" >&2
    fi
    exit "$status"

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

# One monitoring server (release, on core 0) following 50 and then 500 simulated printers
# (Bambu Lab on a real Mosquitto, Moonraker- and PrusaLink-shaped fakes); the bench, its
# printers and Mosquitto on core 1. Prints the table for docs/performance.md ("Fleet monitoring").
bench-fleet *args: _mosquitto
    cargo build --release -p printdesk -p printdesk-bench
    taskset -c 1 "${CARGO_TARGET_DIR:-target}/release/printdesk-bench" fleet {{args}}

# The fleet benchmark's smoke mode for CI: 20 printers, 30 s, debug build; fails on errors only.
bench-fleet-smoke: _mosquitto
    cargo build -p printdesk -p printdesk-bench
    cargo run -q -p printdesk-bench -- fleet --smoke

# Seeds a fresh SQLite database with `jobs` jobs, serves it from the release build (one worker,
# core 0), downloads each export with curl (core 1) and reads the server's peak resident memory
# (VmHWM, reset before each download) from /proc. Prints the table for docs/performance.md.

# Peak memory and time of the CSV and xlsx exports over 100,000 jobs (docs/performance.md, "Exports").
bench-export jobs="100000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release -p printdesk -p printdesk-bench
    bin="${CARGO_TARGET_DIR:-target}/release"
    dir=$(mktemp -d)
    server=
    trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
    db="sqlite://$dir/printdesk.db"
    "$bin/printdesk-bench" seed --database-url "$db" --jobs {{jobs}} >/dev/null
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    taskset -c 0 "$bin/printdesk" --bind "127.0.0.1:$port" --database-url "$db" --workers 1 >"$dir/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$server/status"; }
    echo "| export | query | file | seconds | server RSS before | peak RSS during |"
    echo "|---|---|---:|---:|---:|---:|"
    for export in \
      "export.csv|" \
      "export.csv|sort=job_name:desc&delimiter=%3B&tz=Europe/Berlin&lang=de" \
      "export.xlsx|" \
      "export.xlsx|sort=job_name:desc&tz=Europe/Berlin&lang=de"; do
      path="${export%%|*}"; query="${export#*|}"
      before=$(kib VmRSS)
      echo 5 > "/proc/$server/clear_refs"  # resets VmHWM to the current RSS
      start=$(date +%s.%N)
      taskset -c 1 curl -sf -o "$dir/out" "http://127.0.0.1:$port/api/v1/jobs/$path?$query"
      end=$(date +%s.%N)
      peak=$(kib VmHWM)
      size=$(stat -c %s "$dir/out")
      awk -v p="$path" -v q="${query:-(none)}" -v s="$size" -v t0="$start" -v t1="$end" -v b="$before" -v h="$peak" \
        'BEGIN { printf "| %s | `%s` | %.1f MiB | %.1f | %.1f MiB | %.1f MiB |\n", p, q, s / 1048576, t1 - t0, b / 1024, h / 1024 }'
    done

# Debian's mosquitto, the broker the simulated Bambu Lab printers publish on (installed when missing).
_mosquitto:
    @command -v mosquitto >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null; }

# Debian's wrk, the HTTP load generator the benchmark drives (installed when missing).
_wrk:
    @command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# The printer connectors against real peers (docs/monitoring.md): Bambu Lab against a Mosquitto
# each test starts (TLS listener, test CA, bblp password file), OctoPrint against the real
# OctoPrint from PyPI (pinned, in a virtualenv of its own made on first use) and its virtual
# printer, Moonraker against the real Moonraker from PyPI (pinned, its own virtualenv) in front
# of the suite's stand-in Klippy. Installs Debian's mosquitto when missing. Missing peers fail
# the run here instead of being skipped.
test-printers:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v mosquitto >/dev/null || ! command -v mosquitto_passwd >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null
    fi
    version=1.11.8
    venv="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/printdesk/octoprint-$version"
    if ! "$venv/bin/octoprint" --version >/dev/null 2>&1; then
      echo "test-printers: installing OctoPrint $version into $venv"
      rm -rf "$venv"
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --disable-pip-version-check "octoprint==$version"
    fi
    moonraker_version=0.11.0
    moonraker_venv="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/printdesk/moonraker-$moonraker_version"
    if ! "$moonraker_venv/bin/python" -c 'import moonraker' >/dev/null 2>&1; then
      echo "test-printers: installing Moonraker $moonraker_version into $moonraker_venv"
      rm -rf "$moonraker_venv"
      python3 -m venv "$moonraker_venv"
      "$moonraker_venv/bin/pip" install --quiet --disable-pip-version-check "moonraker==$moonraker_version"
    fi
    PRINTDESK_REQUIRE_PEERS=1 PRINTDESK_TEST_OCTOPRINT="$venv/bin/octoprint" \
      PRINTDESK_TEST_MOONRAKER="$moonraker_venv/bin/moonraker" \
      cargo test -p printdesk-monitor --all-features
