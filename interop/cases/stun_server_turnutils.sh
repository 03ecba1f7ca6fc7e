#!/usr/bin/env bash
# sansrtc stun-server answering coturn's independent STUN client (turnutils_stunclient).
set -euo pipefail
CASE=stun_server_turnutils
source interop/lib.sh
log="$(mktemp)"
"$SANSRTC_BIN" stun-server --listen 127.0.0.1:3478 >"$log" 2>&1 &
PIDS+=($!)
wait_for_line "$log" "listening on" 10 || fail "server did not start: $(cat "$log")"
out="$(timeout 20 turnutils_stunclient -p 3478 -L 127.0.0.1 127.0.0.1 2>&1)" || fail "turnutils_stunclient failed: $out"
echo "$out"
echo "$out" | grep -Eq 'UDP reflexive addr: 127\.0\.0\.1:[0-9]+' || fail "no reflexive address in: $out"
kill -TERM "${PIDS[0]}"
wait_for_line "$log" "terminated, shutting down" 5 || fail "no graceful shutdown on SIGTERM: $(cat "$log")"
pass
