#!/usr/bin/env bash
# Runs every scenario of docs/BENCHMARKS.md through bench/run.sh (REPEAT=3 by
# default) and keeps each comparison in target/bench/suite/<name>.log.
#   bench/suite.sh            # all
#   bench/suite.sh echo       # only the names that contain "echo"
set -euo pipefail
cd "$(dirname "$0")/.."
export REPEAT=${REPEAT:-3}
dir=target/bench/suite
mkdir -p "$dir"
run() {
    local name=$1
    shift
    [[ "$name" == *"${filter:-}"* ]] || return 0
    echo "## $name: bench/run.sh $*"
    bench/run.sh "$@" >"$dir/$name.log" 2>&1 || echo "(failed: see $dir/$name.log)"
    sed -n '/^== testhub \/ baseline/,$p' "$dir/$name.log"
}
filter=${1:-}
for protocol in json messagepack; do
    for c in 1 10 100 1000; do
        run "echo-$protocol-$c" echo --connections "$c" --duration 10 --protocol "$protocol"
    done
done
for n in 100 1000; do
    run "broadcast-json-$n" broadcast --connections "$n" --duration 10
done
REPEAT=1 run "broadcast-json-10000" broadcast --connections 10000 --duration 10
REPEAT=1 run "idle-json-10000" idle --connections 10000 --hold 40
REPEAT=1 run "idle-json-100000" idle --connections 100000 --hold 20 --connect-timeout 10
