#!/usr/bin/env bash
# Scale-out broadcast: one testhub node against two joined through Redis.
#
#   bench/scaleout.sh                                # broadcast --connections 1000 --duration 10
#   bench/scaleout.sh --connections 5000 --protocol messagepack
#
# Three configurations, each run with `loadgen broadcast` (the sender calls
# SendToAll on the first node, the receivers count every delivery):
#   local    one testhub without Redis: the reference;
#   redis-1  one testhub with --redis, every receiver on it: each message also
#            crosses Redis once and comes back to the node (which ignores it);
#   redis-2  two testhubs with --redis on the same Redis, the receivers spread
#            round-robin over them (the sender on the first): node 2 fans out
#            what reaches it through Redis.
# Every argument goes to `loadgen broadcast`, after the defaults
# `--connections 1000 --duration 10` (a repeated option: the last one wins).
#
# Pinning: every server and redis-server run on core 0, the load generator on
# core 1. On a 2-core machine two nodes share one core, so this measures what
# the backplane costs (Redis round trips, a second process's fan-out), NOT how
# throughput scales with nodes: for that, give each node its own cores.
# server_cpu and server_us_per_delivery sum every testhub node and, for the
# redis configurations, redis-server.
#
# REPEAT=N (default 3) runs the three configurations N times, alternating, and
# compares each one's best run (highest deliveries/s): other work on the
# machine only ever makes a run slower. QUIET_WAIT as in bench/run.sh.
# Results are kept in target/bench/scaleout/<configuration>.txt, the servers'
# logs next to them.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/common.sh
raise_open_files_limit
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 2; }

cargo build --release --quiet -p samples --bin testhub -p bench --bin loadgen
out=target/bench/scaleout
mkdir -p "$out"

# Every process this script started and has not stopped yet.
server_pids=()
redis_pid=
stop_servers() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    server_pids=()
}
cleanup() {
    stop_servers
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
        redis_pid=
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts redis-server on core 0 on a free port (tries a few random ones).
redis_port=
for _ in $(seq 20); do
    port=$(( 20000 + RANDOM % 30000 ))
    # Something answers there already: try another port.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    log=$out/redis.log
    taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$out" >"$log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 50); do
        grep -q 'Ready to accept connections' "$log" && break
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q 'Ready to accept connections' "$log"; then
        redis_port=$port
        break
    fi
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=
done
[ -n "$redis_port" ] || { echo "redis-server did not start:" >&2; cat "$out/redis.log" >&2; exit 1; }
redis_url=redis://127.0.0.1:$redis_port
echo "redis-server pid $redis_pid on $redis_url"

# Starts one testhub node on core 0 (extra arguments: --redis URL); appends
# its pid to server_pids and sets `url` to its hub URL.
start_node() {
    local log=$1
    shift
    : >"$log"
    taskset -c 0 target/release/testhub --addr 127.0.0.1:0 "$@" >"$log" 2>&1 &
    server_pids+=($!)
    url=$(hub_url_from_log "$log") && return
    echo "testhub did not start:" >&2
    cat "$log" >&2
    exit 1
}

configs="local redis-1 redis-2"
declare -A nodes=([local]=1 [redis-1]=1 [redis-2]=2)
repeat=${REPEAT:-3}
for config in $configs; do : >"$out/$config.txt"; done
for run in $(seq "$repeat"); do
for config in $configs; do
    wait_quiet
    redis_args=()
    [ "$config" = local ] || redis_args=(--redis "$redis_url")
    url_args=()
    for node in $(seq "${nodes[$config]}"); do
        start_node "$out/$config-$run-node$node.server.log" "${redis_args[@]}"
        url_args+=(--url "$url")
    done
    # The processes whose CPU counts as the server's.
    pids=$(IFS=,; echo "${server_pids[*]}")
    [ "$config" = local ] || pids=$pids,$redis_pid
    echo "== $config, run $run/$repeat (${url_args[*]}; server pids $pids); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    taskset -c 1 target/release/loadgen broadcast "${url_args[@]}" --server-pid "$pids" \
        --connections 1000 --duration 10 "$@" | tee -a "$out/$config.txt"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    stop_servers
done
done

# Prints the best run of each configuration side by side, with the ratios
# redis-2 / local, redis-1 / local and redis-2 / redis-1.
echo "== scale-out broadcast (best of $repeat; servers and redis on core 0, loadgen on core 1)"
awk '
    FNR == 1 { file++ }
    /^RESULT / {
        delete r
        for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
        score = ("deliveries_per_s" in r) ? r["deliveries_per_s"] : 0
        runs[file] = runs[file] " " score
        if (!(file in best) || score + 0 > best[file] + 0) { best[file] = score; line[file] = $0 }
    }
    END {
        printf "runs (deliveries/s): local%s; redis-1%s; redis-2%s\n", runs[1], runs[2], runs[3]
        # Every key, in the order of first appearance; one node prints no `nodes`.
        for (f = 1; f <= 3; f++) {
            n = split(line[f], fields, " ")
            for (i = 2; i <= n; i++) {
                split(fields[i], kv, "=")
                if (!(kv[1] in seen)) { seen[kv[1]] = 1; keys[++count] = kv[1] }
                v[f, kv[1]] = kv[2]
            }
            if (!((f, "nodes") in v)) v[f, "nodes"] = 1
        }
        printf "%-22s %12s %12s %12s %8s %8s %8s\n", "metric", "local", "redis-1", "redis-2", "2n/local", "1r/local", "2n/1r"
        for (k = 1; k <= count; k++) {
            key = keys[k]
            printf "%-22s %12s %12s %12s", key, v[1, key], v[2, key], v[3, key]
            split("3 1 2 1 3 2", pair, " ")
            for (p = 1; p <= 6; p += 2) {
                a = v[pair[p], key]; b = v[pair[p + 1], key]; ratio = "-"
                if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 != 0) ratio = sprintf("%.2f", a / b)
                printf " %8s", ratio
            }
            printf "\n"
        }
    }' "$out/local.txt" "$out/redis-1.txt" "$out/redis-2.txt"

# Deliveries must all arrive, in every run of every configuration.
awk '
    /^RESULT / {
        for (i = 2; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] ~ /^(lost|duplicate|receivers_closed|send_errors|failed_connections|broken_connections|wrong)$/ && kv[2] != 0) {
                printf "WARNING: %s: %s=%s\n", FILENAME, kv[1], kv[2]
            }
        }
    }' "$out/local.txt" "$out/redis-1.txt" "$out/redis-2.txt"
