#!/usr/bin/env bash
# Runs one load-generator scenario against `testhub`, the bare `baseline`
# server and the socketioxide peer (`socketio-peer`, bench/socketio-peer), in
# the same invocation, and prints their results and ratios: testhub /
# baseline, socketioxide / baseline and testhub / socketioxide.
#
#   bench/run.sh echo --connections 100 --duration 10 [--protocol messagepack]
#   bench/run.sh broadcast --connections 1000
#   bench/run.sh idle --connections 10000 --hold 40
#
# Every argument after the scenario goes to `loadgen` (see `loadgen --help`);
# for socketioxide, `--protocol X` becomes `--protocol socketio` (Socket.IO's
# JSON parser: socketioxide's side of MessagePack rows stays JSON) and the URL
# its /socket.io/ endpoint. SOCKETIO=off leaves socketioxide out.
# The servers run on core 0 (taskset -c 0), the load generator on core 1.
# REPEAT=N runs the servers N times, alternating, and compares each server's
# best run (highest calls/s or deliveries/s; first run for idle): other work
# on the machine only ever makes a run slower. Every metric's row gives the
# best runs' values; the `runs` line lists every run's throughput.
# BEFORE=path/to/testhub adds a third server, an earlier build of testhub
# (e.g. built from another commit with CARGO_TARGET_DIR=target/before), run in
# the same alternation, and prints testhub / before as well.
# Results are kept in target/bench/<scenario>-<server>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 1 ] || { echo "usage: bench/run.sh echo|broadcast|idle [loadgen options]" >&2; exit 2; }
scenario=$1
shift

. bench/common.sh
raise_open_files_limit

cargo build --release --quiet -p samples --bin testhub -p bench --bin loadgen --bin baseline \
    -p socketio-peer --bin socketio-peer
out=target/bench
mkdir -p "$out"

server_pid=
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop_server EXIT

servers="testhub baseline"
declare -A binary=([testhub]=target/release/testhub [baseline]=target/release/baseline
    [socketioxide]=target/release/socketio-peer)
if [ "${SOCKETIO:-on}" != off ]; then servers="$servers socketioxide"; fi

# The loadgen arguments for socketioxide: `--protocol socketio` in place of
# any `--protocol X`.
socketio_args=(--protocol socketio)
skip=
for arg in "$@"; do
    if [ -n "$skip" ]; then skip=; continue; fi
    if [ "$arg" = --protocol ]; then skip=1; continue; fi
    socketio_args+=("$arg")
done
if [ -n "${BEFORE:-}" ]; then
    [ -x "$BEFORE" ] || { echo "BEFORE=$BEFORE is not an executable" >&2; exit 2; }
    servers="$servers before"
    binary[before]=$BEFORE
fi
repeat=${REPEAT:-1}
for server in $servers; do : >"$out/$scenario-$server.txt"; done
for run in $(seq "$repeat"); do
for server in $servers; do
    wait_quiet
    log="$out/$scenario-$server-$run.server.log"
    rm -f "$log"
    : >"$log"
    taskset -c 0 "${binary[$server]}" --addr 127.0.0.1:0 >"$log" 2>&1 &
    server_pid=$!
    url=$(hub_url_from_log "$log") || { echo "$server did not start:" >&2; cat "$log" >&2; exit 1; }
    args=("$@")
    if [ "$server" = socketioxide ]; then
        url="${url%/hubs/test}/socket.io/?EIO=4&transport=websocket"
        args=("${socketio_args[@]}")
    fi
    echo "== $server, run $run/$repeat (pid $server_pid, $url); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    taskset -c 1 target/release/loadgen "$scenario" --url "$url" --server-pid "$server_pid" "${args[@]}" \
        | tee -a "$out/$scenario-$server.txt"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    stop_server
done
done

# Prints the best run of two servers side by side, with their ratio.
compare() {
    echo "== $1 / $2 (best of $repeat)"
    awk -v first="$1" -v second="$2" '
        FNR == 1 { file++ }
        /^RESULT / {
            delete r
            for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
            score = ("calls_per_s" in r) ? r["calls_per_s"] : (("deliveries_per_s" in r) ? r["deliveries_per_s"] : 0)
            runs[file] = runs[file] " " score
            if (!(file in best) || score + 0 > best[file] + 0) { best[file] = score; line[file] = $0 }
        }
        END {
            if (runs[1] != "" && $0 !~ /idle/) printf "runs (throughput): %s%s; %s%s\n", first, runs[1], second, runs[2]
            n = split(line[1], f1, " ")
            split(line[2], f2, " ")
            for (i = 2; i <= n; i++) { split(f2[i], kv, "="); b[kv[1]] = kv[2] }
            printf "%-22s %14s %14s %8s\n", "metric", first, second, "ratio"
            for (i = 2; i <= n; i++) {
                split(f1[i], kv, "="); k = kv[1]; a = kv[2]
                ratio = "-"
                if (a ~ /^[0-9.]+$/ && b[k] ~ /^[0-9.]+$/ && b[k] + 0 != 0) ratio = sprintf("%.2f", a / b[k])
                printf "%-22s %14s %14s %8s\n", k, a, b[k], ratio
            }
        }' "$out/$scenario-$1.txt" "$out/$scenario-$2.txt"
}
compare testhub baseline
if [ "${SOCKETIO:-on}" != off ]; then
    compare socketioxide baseline
    compare testhub socketioxide
fi
if [ -n "${BEFORE:-}" ]; then compare testhub before; fi
