#!/usr/bin/env bash
# sansrtc PeerConnection (peer/examples/dc_peer.rs, a real UDP socket) against headless
# Chromium over the HTTP signaling of interop/py/chromium_peer.py, data channel echo:
# 1. we offer (Chromium answers setup:active, so Chromium is the DTLS client and sends its
#    fragmented DTLS 1.3-capable ClientHello), open channel "echo", 1000 mixed messages;
# 2. Chromium offers (mode echo), we answer (we are the DTLS client), Chromium's "echo"
#    channel opens on our side, 1000 mixed messages.
# Every echo must come back byte-identical, same type, in order; Chromium's /stats must
# count the messages it received.
set -euo pipefail
CASE=peer_chromium_datachannel
source interop/lib.sh
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p sansrtc --example dc_peer >&2 || fail "build failed"
bin="$target/release/examples/dc_peer"
work="$(mktemp -d)"
# get URL: prints the body (python3 only, no curl needed); fails on errors.
get() { python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"; }
python3 interop/py/chromium_peer.py --port 8701 >"$work/chromium.log" 2>&1 &
PIDS+=($!)
ok=0
for _ in $(seq 1 100); do
    if get http://127.0.0.1:8701/health >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.2
done
[ "$ok" = 1 ] || fail "chromium not ready: $(tail -3 "$work/chromium.log" | tr '\n' ' ')"
count=1000
for role in offer answer; do
    timeout 60 "$bin" --url http://127.0.0.1:8701 --role "$role" --count "$count" \
        >"$work/$role.out" 2>"$work/$role.err" \
        || fail "role $role: $(tail -5 "$work/$role.err" | tr '\n' ' ')"
    cat "$work/$role.out" >&2
    stats="$(get 'http://127.0.0.1:8701/stats')" || fail "no /stats after $role"
    got="$(printf '%s' "$stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(c.get("messagesReceived",0) for c in d.get("datachannels",[])))')"
    [ "$got" = "$count" ] || fail "role $role: Chromium counted $got messages, want $count"
done
pass
