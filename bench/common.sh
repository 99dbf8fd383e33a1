# Shell functions the bench scripts share; sourced, not run.

# The test hub records a span per invocation for OpenTelemetry (its
# CurrentTraceId needs one). The benchmarks measure the server, not the
# OpenTelemetry SDK: they turn it off with the SDK's own switch, unless
# TELEMETRY=on (to measure what recording every call costs).
if [ "${TELEMETRY:-off}" != on ]; then
    export OTEL_SDK_DISABLED=true
fi

# Waits (up to QUIET_WAIT seconds, default 120) until the machine's CPUs are
# at least 90 % idle over one second: other work only makes results noisier.
wait_quiet() {
    local waited=0 a b
    while [ "$waited" -lt "${QUIET_WAIT:-120}" ]; do
        a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
        local total=0 idle=$(( (b[4] + b[5]) - (a[4] + a[5]) ))
        for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
        if [ $(( idle * 100 )) -ge $(( total * 90 )) ]; then return; fi
        waited=$((waited + 1))
    done
    echo "(machine still busy after ${QUIET_WAIT:-120} s; measuring anyway)"
}

# Raises the open-files limit to the hard limit (many connections need many
# descriptors, in the servers and the load generator) and says what it is.
raise_open_files_limit() {
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    echo "open files limit: $(ulimit -n); cores: $(nproc)"
}

# Waits for a server started with `--addr 127.0.0.1:0` to write its address
# to LOG (up to TRIES tenths of a second, default 100) and prints its hub URL
# (`ws://127.0.0.1:PORT/hubs/test`); fails if it never does.
hub_url_from_log() {
    local log=$1 tries=${2:-100} url
    for _ in $(seq "$tries"); do
        url=$(sed -n 's|^listening on http://\(.*\)$|ws://\1/hubs/test|p' "$log" | head -1)
        if [ -n "$url" ]; then
            echo "$url"
            return 0
        fi
        sleep 0.1
    done
    return 1
}
