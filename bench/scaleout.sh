#!/usr/bin/env bash
# Scale-out broadcast: one testhub node against two joined through Redis,
# over pub/sub and over the durable streams backplane, in the same run.
#
#   bench/scaleout.sh                                # broadcast --connections 1000 --duration 10
#   bench/scaleout.sh --connections 5000 --protocol messagepack
#
# Four configurations, each run with `loadgen broadcast` (the sender calls
# SendToAll on the first node, the receivers count every delivery):
#   local      one testhub without Redis: the reference;
#   redis-1    one testhub with --redis (pub/sub), every receiver on it: each
#              message also crosses Redis once and comes back to the node
#              (which ignores it);
#   redis-2    two testhubs with --redis (pub/sub) on the same Redis, the
#              receivers spread round-robin over them (the sender on the
#              first): node 2 fans out what reaches it through Redis;
#   streams-2  the same two nodes with --backplane streams: every message is
#              appended to a Redis Stream (XADD, trimmed to ~100,000 entries)
#              and read back by each node (XREAD): the cost of durability.
# CONFIGS="local redis-2 streams-2" runs a subset (in that order).
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
# REPEAT=N (default 3) runs the configurations N times, alternating, and
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

configs=${CONFIGS:-local redis-1 redis-2 streams-2}
declare -A nodes=([local]=1 [redis-1]=1 [redis-2]=2 [streams-2]=2)
declare -A backplane=([local]="" [redis-1]=pubsub [redis-2]=pubsub [streams-2]=streams)
repeat=${REPEAT:-3}
for config in $configs; do : >"$out/$config.txt"; done
for run in $(seq "$repeat"); do
for config in $configs; do
    wait_quiet
    redis_args=()
    [ "$config" = local ] || redis_args=(--redis "$redis_url" --backplane "${backplane[$config]}")
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

# Prints the best run of each configuration side by side, and each one's
# ratio to local (and streams-2 / redis-2 when both ran).
files=()
for config in $configs; do files+=("$out/$config.txt"); done
echo "== scale-out broadcast (best of $repeat; servers and redis on core 0, loadgen on core 1)"
awk -v names="$configs" '
    BEGIN { count_names = split(names, name, " ") }
    FNR == 1 { file++ }
    /^RESULT / {
        delete r
        for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
        score = ("deliveries_per_s" in r) ? r["deliveries_per_s"] : 0
        runs[file] = runs[file] " " score
        if (!(file in best) || score + 0 > best[file] + 0) { best[file] = score; line[file] = $0 }
    }
    END {
        printf "runs (deliveries/s):"
        for (f = 1; f <= count_names; f++) printf " %s%s;", name[f], runs[f]
        printf "\n"
        local_col = 0; pubsub_col = 0; streams_col = 0
        for (f = 1; f <= count_names; f++) {
            if (name[f] == "local") local_col = f
            if (name[f] == "redis-2") pubsub_col = f
            if (name[f] == "streams-2") streams_col = f
            n = split(line[f], fields, " ")
            for (i = 2; i <= n; i++) {
                split(fields[i], kv, "=")
                if (!(kv[1] in seen)) { seen[kv[1]] = 1; keys[++count] = kv[1] }
                v[f, kv[1]] = kv[2]
            }
            if (!((f, "nodes") in v)) v[f, "nodes"] = 1
        }
        printf "%-22s", "metric"
        for (f = 1; f <= count_names; f++) printf " %12s", name[f]
        if (local_col) for (f = 1; f <= count_names; f++) if (f != local_col) printf " %12s", name[f] "/local"
        if (pubsub_col && streams_col) printf " %12s", "streams/pubsub"
        printf "\n"
        for (k = 1; k <= count; k++) {
            key = keys[k]
            printf "%-22s", key
            for (f = 1; f <= count_names; f++) printf " %12s", v[f, key]
            if (local_col) for (f = 1; f <= count_names; f++) if (f != local_col) printf " %12s", ratio(v[f, key], v[local_col, key])
            if (pubsub_col && streams_col) printf " %12s", ratio(v[streams_col, key], v[pubsub_col, key])
            printf "\n"
        }
    }
    function ratio(a, b) {
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 != 0) return sprintf("%.2f", a / b)
        return "-"
    }' "${files[@]}"

# Deliveries must all arrive, in every run of every configuration.
awk '
    /^RESULT / {
        for (i = 2; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] ~ /^(lost|duplicate|receivers_closed|send_errors|failed_connections|broken_connections|wrong)$/ && kv[2] != 0) {
                printf "WARNING: %s: %s=%s\n", FILENAME, kv[1], kv[2]
            }
        }
    }' "${files[@]}"
