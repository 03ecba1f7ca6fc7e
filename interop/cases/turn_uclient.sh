#!/usr/bin/env bash
# coturn's TURN client (turnutils_uclient) against sansrtc turn-server: two clients over UDP,
# each allocates, binds channels and sends to the other's relayed address (-y), then to a
# turnutils_peer echo peer, with Send/Data indications, and over TCP; all messages must come
# back (0 lost), and over TLS (rustls, self-signed certificate made here by openssl).
# Also: a wrong password is refused with 401.
set -euo pipefail
CASE=turn_uclient
source interop/lib.sh
log="$(mktemp)"
tmp="$(mktemp -d)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 \
    -subj /CN=localhost -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null \
    || fail "openssl could not make a certificate"
"$SANSRTC_BIN" turn-server --listen 127.0.0.1:3478 --realm interop.local \
    --user webrtc:webrtc-pass --relay-ports 49160-49200 --allow-peer 127.0.0.0/8 \
    --cert "$tmp/cert.pem" --key "$tmp/key.pem" --tls-listen 127.0.0.1:5349 -v >"$log" 2>&1 &
PIDS+=($!)
wait_for_line "$log" "listening on" 10 || fail "server did not start: $(cat "$log")"
turnutils_peer -L 127.0.0.1 -p 3480 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
check_run() { # label, extra uclient args...
    local label="$1"; shift
    local out
    out="$(timeout 60 turnutils_uclient -u webrtc -w webrtc-pass -n 50 -m 2 -l 170 \
        -e 127.0.0.1 -r 3480 -p "${PORT:-3478}" "$@" 127.0.0.1 2>&1)" || fail "$label: uclient exited non-zero: $(echo "$out" | tail -20)"
    echo "$out" | grep -E "Total (transmit|lost)" | sed "s|^|$label: |"
    echo "$out" | grep -Eq "Total lost packets 0 \(0\.0+%\)" || fail "$label: packets lost: $(echo "$out" | tail -20)"
    echo "$out" | grep -Eq "tot_send_msgs=100,|Total transmit time" || true
    local recv
    recv="$(echo "$out" | grep -Eo 'tot_recv_msgs=[0-9]+' | tail -1 | cut -d= -f2)"
    [ "${recv:-0}" -ge 100 ] || fail "$label: only ${recv:-0} messages received: $(echo "$out" | tail -20)"
}
check_run "client-to-client channels" -y
check_run "echo peer, channels"
check_run "echo peer, Send and Data indications" -c
check_run "TCP to the server, channels (padded ChannelData)" -t
PORT=5349 check_run "TLS (rustls) to the server, channels" -t -S
# wrong password: refused
out="$(timeout 20 turnutils_uclient -u webrtc -w wrong -n 1 -m 1 -e 127.0.0.1 -r 3480 -p 3478 127.0.0.1 2>&1 || true)"
echo "$out" | grep -Eqi "401|unauthori|error" || fail "wrong password not refused: $(echo "$out" | tail -10)"
grep -q "allocation for webrtc" "$log" || fail "no allocation logged: $(cat "$log")"
kill -TERM "${PIDS[0]}"
wait_for_line "$log" "terminated, shutting down" 5 || fail "no graceful shutdown on SIGTERM: $(cat "$log")"
grep "shutting down" "$log"
pass
