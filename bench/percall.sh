#!/usr/bin/env bash
# Per-call counts of the server's work on echo (C=100 by default), beside
# calls/s, for testhub, the bare baseline and the socketioxide peer: counts
# that do not move with the machine's load the way timings do.
#
#   bench/percall.sh                               # echo C=100 JSON, all three
#   CONNECTIONS=10 PROTOCOL=messagepack bench/percall.sh testhub baseline
#
# For each server, two runs of `loadgen echo`, each counting over loadgen's
# measured window only (loadgen prints a line when it opens and when it
# closes; the counts are divided by the calls answered in it):
# 1. natively: calls/s, server CPU µs per call (loadgen's own numbers), and
#    `perf stat` software counters attached for the window: syscalls
#    (raw_syscalls:sys_enter, every syscall of every thread) and context
#    switches (each one a thread going to sleep or being preempted: the
#    wake-ups);
# 2. under `valgrind --tool=callgrind`, instrumentation switched on for the
#    window only: instructions (user space, libc included) and calls to
#    malloc, calloc and realloc (allocations; every server here uses the
#    system allocator). Under valgrind the server runs ~50x slower, which
#    changes how many replies one write carries: read these counts as the
#    cost of the code path, the syscall counts of run 1 as the batching.
# Socketioxide speaks Socket.IO's JSON (PROTOCOL applies to the other two).
# Needs perf and valgrind. Results: target/bench/percall/.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
export QUIET_WAIT=${QUIET_WAIT:-30}
connections=${CONNECTIONS:-100}
protocol=${PROTOCOL:-json}
duration=${SECONDS_MEASURED:-8}
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(testhub baseline socketioxide)
for tool in perf valgrind callgrind_control; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
cargo build --release --quiet -p samples --bin testhub -p bench --bin loadgen --bin baseline \
    -p socketio-peer --bin socketio-peer
declare -A binary=([testhub]=target/release/testhub [baseline]=target/release/baseline
    [socketioxide]=target/release/socketio-peer)
out=target/bench/percall
mkdir -p "$out"

server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    wait 2>/dev/null || true
}
trap cleanup EXIT

# Waits (up to 60 s) until FILE has a line matching PATTERN.
wait_line() {
    local file=$1 pattern=$2
    for _ in $(seq 1200); do
        grep -q "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "no line \`$pattern\` in $file" >&2
    return 1
}

# The value of KEY in the RESULT line of FILE.
result() { sed -n 's/^RESULT .* '"$2"'=\([^ ]*\).*/\1/p' "$1"; }

# Starts loadgen echo against the server at URL (pid PID) for SERVER, output to LOG.
start_loadgen() {
    local server=$1 url=$2 pid=$3 log=$4 wire=$protocol
    if [ "$server" = socketioxide ]; then
        url="${url%/hubs/test}/socket.io/?EIO=4&transport=websocket"
        wire=socketio
    fi
    taskset -c 1 target/release/loadgen echo --url "$url" --server-pid "$pid" \
        --connections "$connections" --duration "$duration" --protocol "$wire" >"$log" 2>&1 &
    loadgen_pid=$!
}

# Prints the calls to malloc, calloc and realloc, and the instructions, of a
# callgrind dump (function names are compressed: `(id) name` once, `(id)` after).
callgrind_counts() {
    awk '
        function name(field,   id, rest) {
            id = field; sub(/\).*/, "", id); sub(/^\(/, "", id)
            rest = field; if (sub(/^\([0-9]+\) /, "", rest)) names[id] = rest
            return names[id]
        }
        /^fn=/ { name(substr($0, 4)) }
        /^cfn=/ { callee = name(substr($0, 5)) }
        /^calls=/ {
            split(substr($0, 7), c, " ")
            if (callee ~ /^(__libc_)?(malloc|calloc|realloc)(\x27[0-9]+)?$/) allocations += c[1]
        }
        /^(summary|totals):/ { instructions = $2 }
        END { printf "%d %d\n", allocations, instructions }' "$1"
}

printf '%-13s %10s %9s %12s %14s %14s %14s\n' server calls/s cpu_us syscalls ctx_switches instructions allocations
for server in "${servers[@]}"; do
    # 1. Native, perf stat over the window.
    wait_quiet
    log=$out/$server.server.log
    : >"$log"
    taskset -c 0 "${binary[$server]}" --addr 127.0.0.1:0 >"$log" 2>&1 &
    server_pid=$!
    url=$(hub_url_from_log "$log") || { echo "$server did not start" >&2; exit 1; }
    start_loadgen "$server" "$url" "$server_pid" "$out/$server.loadgen.txt"
    wait_line "$out/$server.loadgen.txt" '^measured window: open'
    perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$server_pid" \
        -o "$out/$server.perf.txt" &
    perf_pid=$!
    wait_line "$out/$server.loadgen.txt" '^measured window: closed'
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    wait "$loadgen_pid"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
    server_pid=
    calls=$(result "$out/$server.loadgen.txt" calls)
    rate=$(result "$out/$server.loadgen.txt" calls_per_s)
    cpu=$(result "$out/$server.loadgen.txt" server_us_per_call)
    syscalls=$(awk -F, '/raw_syscalls:sys_enter/ { print $1 }' "$out/$server.perf.txt")
    switches=$(awk -F, '/context-switches/ { print $1 }' "$out/$server.perf.txt")

    # 2. Callgrind over the window.
    name=$out/$server.cg
    rm -f "$name" "$name".[0-9]*
    log=$out/$server.callgrind.log
    : >"$log"
    taskset -c 0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$name" \
        "${binary[$server]}" --addr 127.0.0.1:0 >"$log" 2>&1 &
    server_pid=$!
    url=$(hub_url_from_log "$log" 200) || { echo "$server did not start under valgrind" >&2; exit 1; }
    start_loadgen "$server" "$url" "$server_pid" "$out/$server.callgrind.loadgen.txt"
    wait_line "$out/$server.callgrind.loadgen.txt" '^measured window: open'
    callgrind_control -i on "$server_pid" >/dev/null 2>&1
    wait_line "$out/$server.callgrind.loadgen.txt" '^measured window: closed'
    callgrind_control -i off "$server_pid" >/dev/null 2>&1
    callgrind_control -d "$server_pid" >/dev/null 2>&1
    wait "$loadgen_pid"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
    server_pid=
    vg_calls=$(result "$out/$server.callgrind.loadgen.txt" calls)
    dump=$(ls "$name".[0-9]* | tail -1)
    read -r allocations instructions < <(callgrind_counts "$dump")

    awk -v s="$server" -v r="$rate" -v cpu="$cpu" -v c="$calls" -v sc="$syscalls" -v cs="$switches" \
        -v vc="$vg_calls" -v i="$instructions" -v a="$allocations" 'BEGIN {
            printf "%-13s %10s %9s %12.2f %14.4f %14.0f %14.2f\n", s, r, cpu, sc / c, cs / c, i / vc, a / vc
        }' | tee -a "$out/table.txt"
done
echo "(per call; calls/s and CPU from the native run, at $connections connections, $protocol; socketioxide: Socket.IO JSON)"
