#!/usr/bin/env bash
# sansrtc-sdp subsequent offers (JSEP RFC 8829 §5.2.2) against headless Chromium, on the SAME
# RTCPeerConnection that negotiated the first exchange:
#  1. Chromium answers our offer; we re-offer (same mids, credentials, payload types, extmap
#     ids, actpass, o= version + 1, one audio m-section added); Chromium applies it and
#     answers; then we re-offer again with an ICE restart and Chromium answers with new
#     credentials of its own.
#  2. We answer Chromium's offer (Chromium applies our answer), then re-offer from the
#     answerer side; Chromium applies it and answers.
# Every answer must parse, round-trip byte-identical and only use what we offered (jsep check).
# The shared peer page has no "apply a re-offer on an existing connection" operation, so this
# case runs a private copy of interop/py with one added: POST /reoffer {id, sdp} ->
# setRemoteDescription(offer) + createAnswer + setLocalDescription on connection `id`.
set -euo pipefail
CASE=sdp_reoffer
source interop/lib.sh
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p sansrtc-sdp --example jsep >&2 || fail "build failed"
jsep="$target/release/examples/jsep"
work="$(mktemp -d)"
cp -r interop/py "$work/py"
python3 - "$work/py" <<'PY' || fail "could not add the reoffer operation to the peer copy"
import sys, os
d = sys.argv[1]
page = os.path.join(d, "peer_page.html")
s = open(page).read()
anchor = "  async setAnswer(args) {"
assert anchor in s
op = """  async reanswer(args) {
    const entry = pcs[args.id];
    if (!entry) throw new Error('unknown id ' + args.id);
    const pc = entry.pc;
    await pc.setRemoteDescription({type: 'offer', sdp: args.sdp});
    const ans = await pc.createAnswer();
    await pc.setLocalDescription(ans);
    return {id: entry.id, type: 'answer', sdp: pc.localDescription.sdp, signalingState: pc.signalingState};
  },

"""
open(page, "w").write(s.replace(anchor, op + anchor, 1))
peer = os.path.join(d, "chromium_peer.py")
s = open(peer).read()
anchor = '    @routes.post("/answer")'
assert anchor in s
route = '''    @routes.post("/reoffer")
    async def post_reoffer(req):
        body = await req.json()
        try:
            r = await bridge.call("reanswer", {"id": body["id"], "sdp": in_sdp(body["sdp"])})
        except Exception as e:  # noqa: BLE001
            return jerr(e)
        return web.json_response({"id": r["id"], "type": "answer", "sdp": out_sdp(r["sdp"]),
                                  "signalingState": r.get("signalingState")})

'''
open(peer, "w").write(s.replace(anchor, route + anchor, 1))
PY
url=http://127.0.0.1:8703
# reoffer LOCAL REMOTE ID NAME [restart]: our re-offer, applied and answered by Chromium on
# connection ID; checks the answer; leaves $work/NAME.sdp and $work/NAME_answer.sdp.
reoffer() {
    "$jsep" reoffer "$1" "$2" ${5:-} >"$work/$4.sdp" || fail "create_reoffer ($4)"
    body "$work/$4.sdp" offer "$3" >"$work/$4.json"
    http POST "$url/reoffer" "$work/$4.json" >"$work/$4_resp.json" 2>"$work/$4_err" \
        || fail "Chromium refused our re-offer $4: $(tail -c 300 "$work/$4_err") $(grep -i error "$work/chromium.log" | tail -2 | tr '\n' ' ')"
    json_get sdp <"$work/$4_resp.json" >"$work/$4_answer.sdp"
    state="$(json_get signalingState <"$work/$4_resp.json")"
    [ "$state" = stable ] || fail "$4: Chromium signaling state $state after answering"
    res="$("$jsep" check "$work/$4.sdp" "$work/$4_answer.sdp" 2>&1)" \
        || fail "Chromium's answer to our re-offer $4: $res"
    echo "$4: Chromium answered our re-offer on the same connection: $res" >&2
}
ufrag() { grep -m1 '^a=ice-ufrag:' "$1" | tr -d '\r' | cut -d: -f2; }
start_http_peer "$work/py/chromium_peer.py" 8703 "$work/chromium.log"

# 1. We offer, Chromium answers; then two re-offers on that connection.
"$jsep" offer >"$work/offer.sdp" || fail "create_offer"
body "$work/offer.sdp" offer >"$work/offer.json"
http POST "$url/offer" "$work/offer.json" >"$work/answer.json" || fail "Chromium refused our offer"
json_get sdp <"$work/answer.json" >"$work/answer.sdp"
id="$(json_get id <"$work/answer.json")"
"$jsep" check "$work/offer.sdp" "$work/answer.sdp" >/dev/null || fail "Chromium's first answer"
reoffer "$work/offer.sdp" "$work/answer.sdp" "$id" re1
grep -q '^a=mid:new-a' "$work/re1_answer.sdp" || fail "re1: the added m-section is missing from the answer"
[ "$(grep -c '^m=' "$work/re1_answer.sdp")" = 4 ] || fail "re1: answer does not have 4 m-sections"
reoffer "$work/re1.sdp" "$work/re1_answer.sdp" "$id" re2 restart
[ "$(ufrag "$work/re2.sdp")" = ReSt ] || fail "re2: our ICE restart ufrag is not in the re-offer"
[ "$(ufrag "$work/re2_answer.sdp")" != "$(ufrag "$work/re1_answer.sdp")" ] \
    || fail "re2: Chromium kept its ICE ufrag across our ICE restart"

# 2. Chromium offers, we answer (Chromium applies it), then we re-offer as the answerer.
http GET "$url/offer?mode=both&videoCodec=&audioCodec=" >"$work/c_offer.json" || fail "Chromium did not offer"
json_get sdp <"$work/c_offer.json" >"$work/c_offer.sdp"
cid="$(json_get id <"$work/c_offer.json")"
"$jsep" answer "$work/c_offer.sdp" >"$work/our_answer.sdp" || fail "create_answer"
body "$work/our_answer.sdp" answer "$cid" >"$work/our_answer.json"
http POST "$url/answer" "$work/our_answer.json" >/dev/null || fail "Chromium rejected our answer"
reoffer "$work/our_answer.sdp" "$work/c_offer.sdp" "$cid" re3
pass
