#!/usr/bin/env bash
# Runs Akta's whole test suite on a fresh machine, installing what the tests need:
# PostgreSQL server binaries (Debian/Ubuntu apt), the Garage S3 server (cargo install), the
# OpenSSL headers, Debian's chromium and the browser tests' npm packages. Tests start their own
# throwaway PostgreSQL and Garage; nothing else is used.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  if command -v apt-get >/dev/null 2>&1; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
  else
    echo "please install: $*" >&2
    exit 1
  fi
}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
   && ! [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]; then
  say "installing PostgreSQL server binaries"
  apt_install postgresql
fi

if ! pkg-config --exists openssl 2>/dev/null; then
  say "installing OpenSSL headers"
  apt_install libssl-dev pkg-config
fi

if ! command -v tesseract >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
  say "installing OCR tools (tesseract with German, poppler) for the extraction tests"
  # Optional: without them the tests check the "no text (OCR unavailable)" path instead.
  (apt_install tesseract-ocr tesseract-ocr-deu poppler-utils) \
    || echo "OCR tools not installed; OCR tests will check the unavailable path"
fi

if ! command -v xmllint >/dev/null 2>&1; then
  say "installing xmllint (libxml2-utils): every xdomea message Akta writes is validated against the official XSD"
  apt_install libxml2-utils
fi

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v garage >/dev/null 2>&1; then
  say "installing the Garage S3 server (cargo install garage --locked, takes a while)"
  cargo install garage --locked --no-default-features --features bundled-libs,lmdb,sqlite
fi

# The browser tests drive Debian's chromium with playwright-core (no browser download) and
# scan every page with axe-core; in CI they fail rather than skip when any of it is missing.
if ! [ -x /usr/bin/chromium ]; then
  say "installing Debian's chromium for the browser tests"
  apt_install chromium
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "installing Node.js and npm for the browser tests"
  apt_install nodejs npm
fi
say "installing playwright-core and axe-core for the browser tests (npm ci)"
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error

# /metrics is read back with the Prometheus project's own parser (PyPI prometheus_client).
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import prometheus_client" 2>/dev/null; then
  say "installing prometheus_client (PyPI) to check /metrics"
  python3 -m pip install --quiet --disable-pip-version-check prometheus_client \
    || python3 -m pip install --quiet --break-system-packages prometheus_client \
    || echo "prometheus_client not installed; the metrics test checks the text itself"
fi

# The Kubernetes manifests are checked with kubernetes-validate (PyPI; it ships the schemas).
if command -v python3 >/dev/null 2>&1 && ! command -v kubernetes-validate >/dev/null 2>&1; then
  say "installing kubernetes-validate (PyPI) to check infra/kubernetes"
  python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate \
    || python3 -m pip install --quiet --break-system-packages kubernetes-validate \
    || echo "kubernetes-validate not installed; the manifest test is skipped"
fi

# The OpenAPI document is checked against a real Akta with schemathesis (PyPI); without it the
# test skips itself locally and fails under CI.
if command -v python3 >/dev/null 2>&1 && ! command -v schemathesis >/dev/null 2>&1; then
  say "installing schemathesis (PyPI) to test the REST API against its OpenAPI document"
  python3 -m pip install --quiet --disable-pip-version-check schemathesis \
    || python3 -m pip install --quiet --break-system-packages schemathesis \
    || echo "schemathesis not installed; the OpenAPI test is skipped"
fi

# The OIDC tests run a real OpenID provider (npm package oidc-provider); without Node.js they
# skip themselves.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  say "installing the OpenID provider for the OIDC tests (npm ci)"
  npm ci --prefix tests/oidc-provider --no-audit --no-fund --loglevel=error
fi

# A clean clone gains nothing from incremental compilation, and its cache took half of the
# suite's disk (a CI run once failed with "No space left on device"). Developers who want it
# set CARGO_INCREMENTAL=1.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

say "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

say "tests (PostgreSQL $(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1), $(garage --version 2>/dev/null | head -1))"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked -- --test-threads 4 2>&1 | tee "$log"
# One closing line over all test binaries (cargo prints one per binary, the last often a
# doc-test run with nothing in it).
awk '/^test result:/ { for (i = 1; i <= NF; i++) {
       if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "summary: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
