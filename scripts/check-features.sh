#!/usr/bin/env bash
# Compiles every library crate of the workspace with no default features and
# with each of its features alone. Within the workspace, feature unification
# turns features on for everyone (samples enable hub-core's `typescript`), so
# `cargo test --workspace` alone never builds a crate without them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for package in json.load(sys.stdin)["packages"]:
    if not any("lib" in target["kind"] or "proc-macro" in target["kind"] for target in package["targets"]):
        continue
    features = sorted(name for name in package["features"] if name != "default")
    print(package["name"], "")
    for feature in features:
        print(package["name"], feature)
' | while read -r package feature; do
  if [ -z "$feature" ]; then
    echo "check $package --no-default-features"
    cargo check --quiet -p "$package" --no-default-features --lib
  else
    echo "check $package --no-default-features --features $feature"
    cargo check --quiet -p "$package" --no-default-features --features "$feature" --lib
  fi
done
