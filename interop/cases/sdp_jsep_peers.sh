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
start_http_peer interop/py/chromium_peer.py 8701 "$work/chromium.log"
start_http_peer interop/py/aiortc_peer.py 8702 "$work/aiortc.log"
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
