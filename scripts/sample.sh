#!/usr/bin/env bash
# Runs a sample on a fresh clone: installs the official SignalR browser client
# (npm ci) the sample pages load, then builds and starts the sample.
#   scripts/sample.sh chat|axum-chat|clock|whiteboard|testhub [--addr HOST:PORT] [--redis URL]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/sample.sh chat|axum-chat|clock|whiteboard|testhub [options]" >&2; exit 2; }
sample=$1
shift
scripts/npm-install.sh
exec cargo run --release -p samples --bin "$sample" -- "$@"
