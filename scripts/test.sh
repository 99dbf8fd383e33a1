#!/usr/bin/env bash
# Runs the whole test suite: unit, macro UI, and integration tests (the official
# SignalR client in Node.js against the sample hubs, over real sockets). The
# Python client tests create their own virtualenv (target/python-venv) from
# tests/python/requirements.txt: they need Python 3 with venv, and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/npm-install.sh
cargo test --workspace "$@"
# The 20,000-cycle churn soak, in a release build (it takes minutes in debug).
cargo test --release -p tests --test churn -- --ignored --exact soak_20k
