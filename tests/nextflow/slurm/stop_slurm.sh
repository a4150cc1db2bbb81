#!/usr/bin/env bash
# Stops the daemons start_slurm.sh DIR started (by the pids they wrote in DIR): SIGTERM, then
# SIGKILL after 10 s (slurmd ignores SIGTERM while it retries registering with a dead controller).
set -uo pipefail
dir=$(realpath -m "${1:?usage: stop_slurm.sh DIR}")
for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
done
