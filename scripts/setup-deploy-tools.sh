#!/usr/bin/env bash
# Installs the tools of the deployment checks into .venv/deploy, from PyPI, at pinned
# versions (tests/deploy/requirements.lock): aws-sam-cli, cfn-lint, checkov, cargo-lambda
# (with zig for cross-compiling), pytest; and from npm, at the versions of
# tests/deploy/node/package-lock.json (npm ci), asl-validator into .venv/deploy/node (it
# validates the Step Functions definition; needs node and npm). Idempotent: a second run
# only checks a stamp.
# Also makes sure the aarch64 Rust standard library is there for the arm64 build; where it
# cannot be installed, the build check falls back to x86_64 and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv/deploy
REQS=tests/deploy/requirements.txt
LOCK=tests/deploy/requirements.lock
STAMP="$VENV/.installed"
PYTHON="${PYTHON:-python3}"

# The lock must hold every direct pin: catch a requirements.txt edited without the lock.
while read -r pin; do
    [[ "$pin" =~ ^[A-Za-z] ]] || continue
    grep -qix -- "$pin" "$LOCK" || { echo "error: $LOCK lacks $pin (regenerate it)" >&2; exit 1; }
done < "$REQS"

want="$(cat "$REQS" "$LOCK" | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    echo "deploy tools: up to date in $VENV"
else
    start=$SECONDS
    echo "deploy tools: installing into $VENV (about 1-3 minutes)"
    rm -f "$STAMP"
    [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile -r "$LOCK"
    "$VENV/bin/python" -m pip check
    echo "$want" > "$STAMP"
    echo "deploy tools: installed in $((SECONDS - start)) s"
fi

# asl-validator, exactly as locked (npm ci checks every package's integrity hash).
NODE_DIR="$VENV/node"
NODE_STAMP="$NODE_DIR/.installed"
node_want="$(cat tests/deploy/node/package.json tests/deploy/node/package-lock.json | sha256sum | cut -d' ' -f1)"
if [[ -x "$NODE_DIR/node_modules/.bin/asl-validator" && -f "$NODE_STAMP" && "$(cat "$NODE_STAMP")" == "$node_want" ]]; then
    echo "asl-validator: up to date in $NODE_DIR"
else
    command -v npm >/dev/null || { echo "error: npm (with node 18 or newer) is needed for asl-validator: apt-get install nodejs npm" >&2; exit 1; }
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    cp tests/deploy/node/package.json tests/deploy/node/package-lock.json "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    "$NODE_DIR/node_modules/.bin/asl-validator" --version >/dev/null
    echo "$node_want" > "$NODE_STAMP"
    echo "asl-validator: installed $("$NODE_DIR/node_modules/.bin/asl-validator" --version) into $NODE_DIR"
fi

# The arm64 build needs the aarch64 standard library (rustup downloads it).
if command -v rustup >/dev/null; then
    if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
        echo "rust: aarch64-unknown-linux-gnu installed"
    elif timeout 300 rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
        echo "rust: aarch64-unknown-linux-gnu added"
    else
        echo "rust: aarch64-unknown-linux-gnu could not be installed here: the build check will build x86_64"
    fi
fi
