#!/usr/bin/env bash
# sansrtc-sdp offer/answer against real peers (headless Chromium and aiortc, via their HTTP
# signaling in interop/py): each peer answers our offer (their answer must parse, round-trip
# byte-identical and only use what we offered), and each peer accepts (setRemoteDescription)
# the answer we write to its own offer.
set -euo pipefail
CASE=sdp_jsep_peers
source interop/lib.sh
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p sansrtc-sdp --example jsep >&2 || fail "build failed"
jsep="$target/release/examples/jsep"
work="$(mktemp -d)"
python3 interop/py/chromium_peer.py --port 8701 >"$work/chromium.log" 2>&1 &
PIDS+=($!)
python3 interop/py/aiortc_peer.py --port 8702 >"$work/aiortc.log" 2>&1 &
PIDS+=($!)
# http METHOD URL [JSON_BODY_FILE]: prints the response body; fails on HTTP errors.
http() {
    python3 - "$@" <<'PY'
import json, sys, urllib.request
method, url = sys.argv[1], sys.argv[2]
data = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=30) as r:
    sys.stdout.write(r.read().decode())
PY
}
# json_get FIELD < JSON: prints one string field.
json_get() { python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# body SDP_FILE TYPE [ID]: a signaling request body.
body() {
    python3 -c 'import json,sys; d={"type":sys.argv[2],"sdp":open(sys.argv[1],newline="").read(),"mode":"both","videoCodec":"","audioCodec":""}
if len(sys.argv)>3: d["id"]=sys.argv[3]
print(json.dumps(d))' "$@"
}
for port in 8701 8702; do
    ok=0
    for _ in $(seq 1 100); do
        if http GET "http://127.0.0.1:$port/health" >/dev/null 2>&1; then ok=1; break; fi
        sleep 0.2
    done
    [ "$ok" = 1 ] || fail "peer on $port not ready: $(tail -3 "$work"/*.log | tr '\n' ' ')"
done
"$jsep" offer >"$work/our_offer.sdp" || fail "create_offer"
body "$work/our_offer.sdp" offer >"$work/our_offer.json"
for peer in chromium:8701 aiortc:8702; do
    name="${peer%%:*}"; url="http://127.0.0.1:${peer##*:}"
    # 1. The peer answers our offer.
    http POST "$url/offer" "$work/our_offer.json" | json_get sdp >"$work/${name}_answer.sdp" \
        || fail "$name refused our offer"
    res="$("$jsep" check "$work/our_offer.sdp" "$work/${name}_answer.sdp" 2>&1)" \
        || fail "$name's answer to our offer: $res"
    echo "$name answered our offer: $res" >&2
    # 2. We answer the peer's offer and the peer applies our answer.
    http GET "$url/offer?mode=both&videoCodec=&audioCodec=" >"$work/${name}_offer.json" \
        || fail "$name did not make an offer"
    json_get sdp <"$work/${name}_offer.json" >"$work/${name}_offer.sdp"
    id="$(json_get id <"$work/${name}_offer.json")"
    "$jsep" answer "$work/${name}_offer.sdp" >"$work/our_answer_$name.sdp" \
        || fail "create_answer to $name's offer"
    "$jsep" check "$work/${name}_offer.sdp" "$work/our_answer_$name.sdp" >/dev/null \
        || fail "our answer to $name fails our own check"
    body "$work/our_answer_$name.sdp" answer "$id" >"$work/our_answer_$name.json"
    resp="$(http POST "$url/answer" "$work/our_answer_$name.json" 2>&1)" \
        || fail "$name rejected our answer: $resp"
    echo "$name accepted our answer: $resp" >&2
done
pass
