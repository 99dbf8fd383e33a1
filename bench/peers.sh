#!/usr/bin/env bash
# The table of docs/BENCHMARKS.md "testhub, socketioxide and the bare server,
# same run": echo at 1, 10 and 100 connections and broadcast to 100 and 1,000
# receivers, each row one bench/run.sh invocation (testhub, baseline and
# socketioxide alternating, REPEAT=3 by default), JSON first, then the same
# rows with testhub and the baseline on MessagePack. Socketioxide speaks
# Socket.IO's JSON on every row; MessagePack rows leave it out unless
# MSGPACK_SOCKETIO=on (its JSON numbers are in the JSON rows).
#
#   QUIET_WAIT=30 REPEAT=3 bench/peers.sh          # all rows
#   bench/peers.sh echo-json                       # the rows whose name contains "echo-json"
#   bench/peers.sh --table                         # only print the table of the last runs
#
# Logs and each server's RESULT lines: target/bench/peers/<row>.log and
# <row>-<server>.txt. The table gives, per row: the throughput ratios of
# each server's best run (highest calls/s or deliveries/s, as run.sh compares
# them) and of the medians; operations per server CPU second (the inverse of
# the median server CPU per call or delivery), which other work on the
# machine disturbs much less than throughput; p99 latency ratios (echo: of the best runs); each server's best
# throughput and median CPU per operation; and the largest server run-queue
# wait of the row's runs (s/s: CPU taken by other work).
set -euo pipefail
cd "$(dirname "$0")/.."
export REPEAT=${REPEAT:-3}
duration=${DURATION:-8}
dir=target/bench/peers
mkdir -p "$dir"

rows=()
row() {
    local name=$1
    rows+=("$name")
    shift
    [ "${filter:-}" != --table ] || return 0
    [[ "$name" == *"${filter:-}"* ]] || return 0
    local scenario=$1 socketio=on
    [[ "$name" != *messagepack* ]] || socketio=${MSGPACK_SOCKETIO:-off}
    echo "## $name: SOCKETIO=$socketio bench/run.sh $* ($(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
    SOCKETIO=$socketio bench/run.sh "$@" >"$dir/$name.log" 2>&1 || echo "(failed: see $dir/$name.log)"
    for server in testhub baseline socketioxide; do
        rm -f "$dir/$name-$server.txt"
        if [ "$socketio" = on ] || [ "$server" != socketioxide ]; then
            cp "target/bench/$scenario-$server.txt" "$dir/$name-$server.txt"
        fi
    done
}

filter=${1:-}
for protocol in json messagepack; do
    for c in 1 10 100; do
        row "echo-$protocol-$c" echo --connections "$c" --duration "$duration" --protocol "$protocol"
    done
    for n in 100 1000; do
        row "broadcast-$protocol-$n" broadcast --connections "$n" --duration "$duration" --protocol "$protocol"
    done
done

# One server's runs in FILE: "best_score best_p99 median_score max_runq
# median_cpu_per_op".
summary() {
    awk '
        /^RESULT / {
            delete r
            for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
            score = ("calls_per_s" in r) ? r["calls_per_s"] : r["deliveries_per_s"]
            n++; scores[n] = score + 0
            if (n == 1 || score + 0 > best + 0) { best = score; p99 = r["p99_us"] }
            if (r["server_runq"] + 0 > runq) runq = r["server_runq"] + 0
            cpus[n] = ("server_us_per_call" in r) ? r["server_us_per_call"] + 0 : r["server_us_per_delivery"] + 0
        }
        END {
            if (n == 0) { print "- - - - -"; exit }
            printf "%s %s %s %.3f %s\n", best, p99, median(scores, n), runq, median(cpus, n)
        }
        # Sorts v[1..n] in place (n is small) and returns its median.
        function median(v, n,   i, j, t) {
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }' "$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 != 0) printf "%.2f", a / b; else printf "-" }'; }

echo
echo "| row | throughput, best (median): testhub / baseline | socketioxide / baseline | testhub / socketioxide | operations per server CPU second (1 / median CPU per op): testhub / baseline, socketioxide / baseline, testhub / socketioxide | p99: testhub / baseline, socketioxide / baseline, testhub / socketioxide | best throughput: testhub, baseline, socketioxide | median CPU µs per op: testhub, baseline, socketioxide | max server run-queue wait (s/s) |"
echo "|---|---|---|---|---|---|---|---|---|"
for name in "${rows[@]}"; do
    [ -f "$dir/$name-testhub.txt" ] || continue
    read -r t_best t_p99 t_med t_runq t_cpu < <(summary "$dir/$name-testhub.txt")
    read -r b_best b_p99 b_med b_runq b_cpu < <(summary "$dir/$name-baseline.txt")
    s_best=- s_p99=- s_med=- s_runq=0 s_cpu=-
    if [ -f "$dir/$name-socketioxide.txt" ]; then
        read -r s_best s_p99 s_med s_runq s_cpu < <(summary "$dir/$name-socketioxide.txt")
    fi
    p99=-
    if [[ "$name" == echo* ]]; then
        p99="$(ratio "$t_p99" "$b_p99"), $(ratio "$s_p99" "$b_p99"), $(ratio "$t_p99" "$s_p99")"
    fi
    runq=$(printf '%s\n' "$t_runq" "$b_runq" "$s_runq" | sort -g | tail -1)
    echo "| $name | $(ratio "$t_best" "$b_best") ($(ratio "$t_med" "$b_med")) | $(ratio "$s_best" "$b_best") ($(ratio "$s_med" "$b_med")) | $(ratio "$t_best" "$s_best") ($(ratio "$t_med" "$s_med")) | $(ratio "$b_cpu" "$t_cpu"), $(ratio "$b_cpu" "$s_cpu"), $(ratio "$s_cpu" "$t_cpu") | $p99 | $t_best, $b_best, $s_best | $t_cpu, $b_cpu, $s_cpu | $runq |"
done
