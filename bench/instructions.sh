#!/usr/bin/env bash
# Instructions per echo call, counted by callgrind: a deterministic measure of
# the server's own work (user space, libc included; not the kernel), for
# comparing two builds of testhub on a machine too noisy for timings.
#
#   bench/instructions.sh target/release/testhub target/before/release/testhub
#   PROTOCOL=messagepack SECONDS_MEASURED=8 bench/instructions.sh BINARY...
#
# For each binary: starts it under `valgrind --tool=callgrind` (instrumentation
# off), runs `loadgen echo` with 100 connections against it, switches
# instrumentation on for SECONDS_MEASURED seconds in the middle of the run,
# and divides the instructions executed by the calls handled in that window
# (the calls to the protocol's `parse`, one per Echo call).
# Needs valgrind (Debian package `valgrind`). Only testhub-like binaries (built
# on hub-core) can be measured: the baseline has no parser to count.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
[ $# -ge 1 ] || { echo "usage: bench/instructions.sh BINARY..." >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install -y valgrind)" >&2; exit 2; }
protocol=${PROTOCOL:-json}
measured=${SECONDS_MEASURED:-8}
cargo build --release --quiet -p bench --bin loadgen
out=target/bench/instructions
mkdir -p "$out"

server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

for binary in "$@"; do
    name=$(echo "$binary" | tr '/' '_')
    rm -f "$out/$name".callgrind*
    taskset -c 0 valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$out/$name.callgrind" "$binary" --addr 127.0.0.1:0 \
        >"$out/$name.log" 2>&1 &
    server_pid=$!
    # Slower to start under valgrind: up to 20 s.
    url=$(hub_url_from_log "$out/$name.log" 200) \
        || { echo "$binary did not start:" >&2; cat "$out/$name.log" >&2; exit 1; }
    taskset -c 1 target/release/loadgen echo --url "$url" \
        --connections 100 --warmup 1 --duration $((measured + 6)) --protocol "$protocol" \
        >"$out/$name.loadgen.txt" 2>&1 &
    loadgen_pid=$!
    sleep 4
    callgrind_control -i on "$server_pid" >/dev/null 2>&1
    sleep "$measured"
    callgrind_control -i off "$server_pid" >/dev/null 2>&1
    callgrind_control -d "$server_pid" >/dev/null 2>&1
    wait "$loadgen_pid"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
    server_pid=
    dump=$(ls "$out/$name".callgrind.* | tail -1)
    total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }')
    # Calls into the protocol's parser (Protocol::parse), summed
    # over their callers.
    calls=$(callgrind_annotate --inclusive=yes --tree=calling "$dump" 2>/dev/null \
        | { grep -E '>   .*hub_(core::protocol|protocol::protocol)::Protocol::parse \(' || true; } \
        | grep -o '([0-9,]*x)' | tr -d '(),x' | awk '{ s += $1 } END { print s + 0 }')
    [ "$calls" -gt 0 ] || { echo "$binary: no calls to the protocol parser counted" >&2; exit 1; }
    awk -v b="$binary" -v t="$total" -v c="$calls" -v p="$protocol" \
        'BEGIN { printf "%-45s %s: %d calls measured, %.0f instructions per call\n", b, p, c, t / c }'
done
