#!/usr/bin/env bash
# The Rust client (`clientgen`, on hub-client) as a load generator beside the
# bench's own minimal client (`loadgen`), against one `testhub` in the same
# run, alternating; prints each one's best run and the ratio (clientgen /
# loadgen). `idle` opens N connections with the Rust client and reports its
# resident memory per connection.
#
#   bench/client.sh echo [--connections 100] [--duration 10] [--protocol messagepack]
#   bench/client.sh idle [--connections 10000]
#
# testhub runs on core 0, the load generators on core 1. REPEAT=N (default 3)
# runs the pair N times. Results are kept in target/bench/client-*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 1 ] || { echo "usage: bench/client.sh echo|idle [options]" >&2; exit 2; }
scenario=$1
shift

. bench/common.sh
raise_open_files_limit

cargo build --release --quiet -p samples --bin testhub -p bench --bin loadgen --bin clientgen
out=target/bench
mkdir -p "$out"

log=$out/client-testhub.log
: >"$log"
taskset -c 0 target/release/testhub --addr 127.0.0.1:0 >"$log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
ws_url=$(hub_url_from_log "$log") || { echo "testhub did not start:" >&2; cat "$log" >&2; exit 1; }
http_url=${ws_url/ws:/http:}

if [ "$scenario" = idle ]; then
    wait_quiet
    taskset -c 1 target/release/clientgen idle --url "$http_url" "$@" | tee "$out/client-idle.txt"
    exit 0
fi

: >"$out/client-loadgen.txt"
: >"$out/client-clientgen.txt"
for run in $(seq "${REPEAT:-3}"); do
    wait_quiet
    echo "== loadgen, run $run"
    taskset -c 1 target/release/loadgen echo --url "$ws_url" "$@" | grep '^RESULT' | tee -a "$out/client-loadgen.txt"
    wait_quiet
    echo "== clientgen (hub-client), run $run"
    taskset -c 1 target/release/clientgen echo --url "$http_url" "$@" | grep '^RESULT' | tee -a "$out/client-clientgen.txt"
done
best() { sed -n 's/.*calls_per_s=\([0-9.]*\).*/\1/p' "$1" | sort -g | tail -1; }
loadgen=$(best "$out/client-loadgen.txt")
clientgen=$(best "$out/client-clientgen.txt")
echo "best calls/s: loadgen $loadgen, clientgen $clientgen"
awk -v a="$clientgen" -v b="$loadgen" 'BEGIN { printf "clientgen / loadgen: %.2f\n", a / b }'
