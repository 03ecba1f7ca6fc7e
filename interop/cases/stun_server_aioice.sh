#!/usr/bin/env bash
# sansrtc stun-server checked by aioice's STUN codec (PyPI): UDP and TCP, ICE-style requests,
# 420 for unknown comprehension-required attributes, a garbage flood, TCP framing.
set -euo pipefail
CASE=stun_server_aioice
source interop/lib.sh
log="$(mktemp)"
"$SANSRTC_BIN" stun-server --listen 127.0.0.1:3478 >"$log" 2>&1 &
PIDS+=($!)
wait_for_line "$log" "listening on" 10 || fail "server did not start: $(cat "$log")"
timeout 60 python3 interop/py/stun_aioice_client.py 127.0.0.1 3478 || fail "aioice client checks failed"
kill -INT "${PIDS[0]}"
wait_for_line "$log" "shutting down" 5 || fail "no graceful shutdown on SIGINT: $(cat "$log")"
pass
