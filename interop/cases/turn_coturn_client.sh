#!/usr/bin/env bash
# The sansrtc TURN client core (turn/examples/turn_client.rs, over real UDP) against coturn
# (Debian `coturn`, started here on loopback with loopback peers allowed): allocate with
# long-term credentials (401 then authenticated), relay 200 messages to a UDP echo peer
# (turnutils_peer) and back, over a channel and over Send/Data indications, then deallocate.
# Then the same with coturn's time-limited credentials (use-auth-secret), the password
# computed by our TimeLimitedCredentials, and a wrong password refused.
set -euo pipefail
CASE=turn_coturn_client
source interop/lib.sh
command -v turnserver >/dev/null || fail "coturn (turnserver) is not installed"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --offline -q -p sansrtc-turn --example turn_client 2>/dev/null \
    || cargo build --release -q -p sansrtc-turn --example turn_client
client="$target/release/examples/turn_client"
tmp="$(mktemp -d)"
start_coturn() { # port, auth args...
    local port="$1"; shift
    turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$port" \
        --min-port=49160 --max-port=49200 --realm=interop.local --fingerprint \
        --allow-loopback-peers --allowed-peer-ip=127.0.0.1-127.255.255.255 \
        --no-tls --no-dtls --no-cli --no-rfc5780 --no-stun-backward-compatibility \
        --log-file="$tmp/coturn-$port.log" --simple-log --verbose \
        --userdb="$tmp/db-$port.sqlite" --pidfile="$tmp/coturn-$port.pid" "$@" >/dev/null 2>&1 &
    PIDS+=($!)
    wait_for_line "$tmp/coturn-$port.log" "Total General servers" 10 \
        || wait_for_line "$tmp/coturn-$port.log" "listener opened on" 5 \
        || fail "coturn did not start: $(tail -20 "$tmp/coturn-$port.log" 2>/dev/null)"
    sleep 0.3
}
turnutils_peer -L 127.0.0.1 -p 3480 >/dev/null 2>&1 &
PIDS+=($!)
start_coturn 3478 --lt-cred-mech --user=webrtc:webrtc-pass
run_client() { # label, args...
    local label="$1"; shift
    local out
    out="$(timeout 60 "$client" --server 127.0.0.1:3478 --peer 127.0.0.1:3480 --count 200 "$@" 2>&1)" \
        || fail "$label: $(echo "$out" | tail -8 | tr '\n' ' ')"
    echo "$out" | sed "s|^|$label: |"
    echo "$out" | grep -q "sent 200 received 200 unexpected 0" || fail "$label: not all echoed: $out"
    echo "$out" | grep -Eq "relayed 127\.0\.0\.1:(491[6-9][0-9]|49200)" || fail "$label: relayed address not in coturn's range: $out"
}
run_client "channel" --user webrtc --pass webrtc-pass
run_client "indications" --user webrtc --pass webrtc-pass --indications
run_client "channel, 1200-byte payloads" --user webrtc --pass webrtc-pass --size 1200
out="$(timeout 30 "$client" --server 127.0.0.1:3478 --peer 127.0.0.1:3480 --count 1 --user webrtc --pass wrong 2>&1 || true)"
echo "$out" | grep -q "AllocationFailed { code: Some(401) }" || fail "wrong password not refused with 401: $out"
echo "wrong password: refused with 401"
# time-limited credentials (coturn's use-auth-secret)
start_coturn 3479 --use-auth-secret --static-auth-secret=north-wind
out="$(timeout 60 "$client" --server 127.0.0.1:3479 --peer 127.0.0.1:3480 --count 50 --user carol --auth-secret north-wind 2>&1)" \
    || fail "auth-secret: $(echo "$out" | tail -8 | tr '\n' ' ')"
echo "$out" | sed "s|^|auth-secret: |"
echo "$out" | grep -q "sent 50 received 50 unexpected 0" || fail "auth-secret: $out"
out="$(timeout 30 "$client" --server 127.0.0.1:3479 --peer 127.0.0.1:3480 --count 1 --user carol --auth-secret wrong-secret 2>&1 || true)"
echo "$out" | grep -q "AllocationFailed { code: Some(401) }" || fail "wrong auth secret not refused: $out"
echo "wrong auth secret: refused with 401"
pass
