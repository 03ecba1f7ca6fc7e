#!/usr/bin/env bash
# sansrtc PeerConnection (peer/examples/dc_peer.rs, a real UDP socket) against aiortc 1.16
# (interop/py/aiortc_peer.py, HTTP signaling), data channel echo in both offer directions:
# we offer and open "echo" (aiortc answers setup:active: aiortc is the DTLS client), then
# aiortc offers with its "echo" channel and we answer (we are the DTLS client). 1000 mixed
# messages each way must come back byte-identical, same type, in order, and aiortc's /stats
# must count them.
set -euo pipefail
CASE=peer_aiortc_datachannel
source interop/lib.sh
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p sansrtc --example dc_peer >&2 || fail "build failed"
bin="$target/release/examples/dc_peer"
work="$(mktemp -d)"
# get URL: prints the body (python3 only, no curl needed); fails on errors.
get() { python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"; }
python3 interop/py/aiortc_peer.py --port 8702 >"$work/aiortc.log" 2>&1 &
PIDS+=($!)
ok=0
for _ in $(seq 1 100); do
    if get http://127.0.0.1:8702/health >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.2
done
[ "$ok" = 1 ] || fail "aiortc not ready: $(tail -3 "$work/aiortc.log" | tr '\n' ' ')"
count=1000
for role in offer answer; do
    timeout 60 "$bin" --url http://127.0.0.1:8702 --role "$role" --count "$count" \
        >"$work/$role.out" 2>"$work/$role.err" \
        || fail "role $role: $(tail -5 "$work/$role.err" | tr '\n' ' ')"
    cat "$work/$role.out" >&2
    stats="$(get 'http://127.0.0.1:8702/stats')" || fail "no /stats after $role"
    got="$(printf '%s' "$stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(c.get("messagesReceived",0) for c in d.get("datachannels",[])))')"
    [ "$got" = "$count" ] || fail "role $role: aiortc counted $got messages, want $count"
done
pass
