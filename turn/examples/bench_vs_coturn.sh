#!/usr/bin/env bash
# Relayed round trips per second and per server CPU-second: sansrtc turn-server vs coturn,
# same load generator (examples/turn_load.rs), same machine, same run. Run from the repo
# root, ideally inside a loopback-only namespace:
#   interop/netns.sh bash turn/examples/bench_vs_coturn.sh [ALLOCATIONS] [SECONDS] [RATE]
# Needs coturn (turnserver) and the release builds of `sansrtc` and the turn_load example.
set -euo pipefail
allocs="${1:-10}"; secs="${2:-5}"; rate="${3:-40000}"
target="${CARGO_TARGET_DIR:-target}"
sansrtc="${SANSRTC_BIN:-$target/release/sansrtc}"
load="$target/release/examples/turn_load"
tmp="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
run_load() { # label, pid, port
    echo "== $1: closed loop, window 16 per allocation"
    "$load" --server "127.0.0.1:$3" --allocations "$allocs" --seconds "$secs" --window 16 --server-pid "$2"
    echo "== $1: open loop, $rate round trips/s offered"
    "$load" --server "127.0.0.1:$3" --allocations "$allocs" --seconds "$secs" --rate "$rate" --server-pid "$2"
}
"$sansrtc" turn-server --listen 127.0.0.1:3478 --realm bench --user webrtc:webrtc-pass \
    --relay-ports 49160-49260 --allow-peer 127.0.0.0/8 --max-allocations-per-user 1000 \
    >"$tmp/sansrtc.log" 2>&1 &
pids+=($!); s=$!
sleep 0.5
run_load "sansrtc turn-server" "$s" 3478
kill "$s"; sleep 0.3
turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port=3479 \
    --min-port=49300 --max-port=49400 --realm=bench --lt-cred-mech --user=webrtc:webrtc-pass \
    --allow-loopback-peers --allowed-peer-ip=127.0.0.1-127.255.255.255 --no-tls --no-dtls \
    --no-cli --log-file="$tmp/coturn.log" --userdb="$tmp/db.sqlite" --pidfile="$tmp/c.pid" \
    --simple-log >/dev/null 2>&1 &
pids+=($!); c=$!
sleep 1
echo "coturn: $(turnserver --version 2>/dev/null | head -1)"
run_load "coturn" "$c" 3479
