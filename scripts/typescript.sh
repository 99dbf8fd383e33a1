#!/usr/bin/env bash
# Regenerates the samples' TypeScript modules from their Rust hubs
# (samples/typescript/*.ts) and compiles the chat page's copy
# (samples/chat/wwwroot/chat-hub.js). Run it after changing a sample hub;
# the test suite fails while either is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/npm-install.sh
cargo run --quiet -p samples --bin gen-typescript
node_modules/.bin/tsc -p samples/typescript
