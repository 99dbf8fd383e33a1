#!/usr/bin/env bash
# Runs one load-generator scenario against `testhub` and against the bare
# `baseline` server, in the same invocation, and prints both results and
# their ratio (testhub / baseline).
#
#   bench/run.sh echo --connections 100 --duration 10 [--protocol messagepack]
#   bench/run.sh broadcast --connections 1000
#   bench/run.sh idle --connections 10000 --hold 40
#
# Every argument after the scenario goes to `loadgen` (see `loadgen --help`).
# The servers run on core 0 (taskset -c 0), the load generator on core 1.
# Results are kept in target/bench/<scenario>-<server>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 1 ] || { echo "usage: bench/run.sh echo|broadcast|idle [loadgen options]" >&2; exit 2; }
scenario=$1
shift

# Many connections need many descriptors, in the servers and the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open files limit: $(ulimit -n); cores: $(nproc)"

cargo build --release --quiet -p samples --bin testhub -p bench --bin loadgen --bin baseline
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

for server in testhub baseline; do
    log="$out/$scenario-$server.server.log"
    taskset -c 0 "target/release/$server" --addr 127.0.0.1:0 >"$log" 2>&1 &
    server_pid=$!
    url=
    for _ in $(seq 100); do
        url=$(sed -n 's|^listening on http://\(.*\)$|ws://\1/hubs/test|p' "$log")
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || { echo "$server did not start:" >&2; cat "$log" >&2; exit 1; }
    echo "== $server (pid $server_pid, $url); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    taskset -c 1 target/release/loadgen "$scenario" --url "$url" --server-pid "$server_pid" "$@" \
        | tee "$out/$scenario-$server.txt"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    stop_server
done

echo "== testhub / baseline"
awk '
    FNR == 1 { file++ }
    /^RESULT / {
        for (i = 2; i <= NF; i++) {
            split($i, kv, "=")
            if (file == 1) { keys[++n] = kv[1]; a[kv[1]] = kv[2] } else { b[kv[1]] = kv[2] }
        }
    }
    END {
        printf "%-22s %14s %14s %8s\n", "metric", "testhub", "baseline", "ratio"
        for (i = 1; i <= n; i++) {
            k = keys[i]
            ratio = "-"
            if (a[k] ~ /^[0-9.]+$/ && b[k] ~ /^[0-9.]+$/ && b[k] + 0 != 0) ratio = sprintf("%.2f", a[k] / b[k])
            printf "%-22s %14s %14s %8s\n", k, a[k], b[k], ratio
        }
    }' "$out/$scenario-testhub.txt" "$out/$scenario-baseline.txt"
