#!/usr/bin/env bash
# The `sansrtc serve` gateway driven by a separate program (interop/py/gateway_relay.py, a
# WebSocket client) that relays signaling between the gateway's server-side sansrtc
# PeerConnection and headless Chromium (chromium_peer.py, HTTP signaling, mode echo), in both
# offer directions; then the same against aiortc. 1000 messages each time (text as JSON
# frames, binary as [channel u16][payload] frames, 1 B-64 KiB) must come back identical, same
# type, in order, and the peer's /stats must count 1000.
set -euo pipefail
CASE=serve_gateway_chromium
source interop/lib.sh
port=8091
log="$(mktemp)"
"$SANSRTC_BIN" serve --listen "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
PIDS+=($server)
wait_for_line "$log" "listening on" 10 || fail "server did not start: $(cat "$log")"
work="$(mktemp -d)"
start_http_peer interop/py/chromium_peer.py 8701 "$work/chromium.log"
start_http_peer interop/py/aiortc_peer.py 8702 "$work/aiortc.log"
for peer in 8701 8702; do
    for role in offer answer; do
        timeout 90 python3 interop/py/gateway_relay.py --gateway "ws://127.0.0.1:$port/gateway" \
            --peer "http://127.0.0.1:$peer" --role "$role" --count 1000 >"$work/out" 2>"$work/err" \
            || fail "peer $peer role $role: $(tail -5 "$work/err" | tr '\n' ' ') / server: $(tail -3 "$log")"
        echo "peer $peer: $(cat "$work/out")" >&2
    done
done
kill -INT "$server"
wait_for_line "$log" "shutting down" 5 || fail "no graceful shutdown on SIGINT: $(cat "$log")"
cat "$log" >&2
[ "$(grep -c 'closed by client' "$log")" = 4 ] || fail "want 4 gateway sessions closed by their client"
grep -q "sessions: 4 started" "$log" || fail "want 4 sessions: $(tail -1 "$log")"
pass
