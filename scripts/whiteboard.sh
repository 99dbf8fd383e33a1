#!/usr/bin/env bash
# Runs the whiteboard sample: open http://127.0.0.1:5000 in two browser tabs and draw.
# Extra arguments go to the binary (e.g. --addr 0.0.0.0:8080).
exec "$(dirname "$0")/sample.sh" whiteboard "$@"
