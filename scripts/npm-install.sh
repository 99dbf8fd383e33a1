#!/usr/bin/env bash
# Installs the npm packages of package-lock.json (the official SignalR client
# for the samples and tests) unless node_modules is already up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
