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

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --all-features -- -D warnings

# Everything CI runs.
ci:
    bash .ci/run
