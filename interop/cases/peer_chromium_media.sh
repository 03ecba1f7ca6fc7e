#!/usr/bin/env bash
# sansrtc PeerConnection media (peer/examples/media_echo.rs, a real UDP socket) against
# headless Chromium with the fake camera and microphone (chromium_peer.py, mode media):
# Chromium sends VP8 video + Opus audio; media_echo decrypts (DTLS-SRTP keys), routes by
# BUNDLE mid, counts, sends a PLI after the first video packet, and echoes every packet back on
# its own tracks (own SSRCs). Both offer directions. Checked:
#   ours:     RTP received and authenticated on the audio and the video mid, none rejected
#             beyond a handful (packets racing the handshake), every packet echoed;
#   Chromium: getStats() inbound-rtp video framesDecoded > 30 and audio packetsReceived > 100
#             (what it decoded is our echo), its outbound video counted our PLI.
set -euo pipefail
CASE=peer_chromium_media
source interop/lib.sh
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p sansrtc --example media_echo >&2 || fail "build failed"
bin="$target/release/examples/media_echo"
work="$(mktemp -d)"
port=8703
start_http_peer interop/py/chromium_peer.py "$port" "$work/peer.log"
for role in offer answer; do
    timeout 60 "$bin" --url "http://127.0.0.1:$port" --role "$role" --seconds 10 \
        >"$work/$role.out" 2>"$work/$role.err" \
        || fail "role $role: $(tail -5 "$work/$role.err" | tr '\n' ' ')"
    python3 - "$role" "$work/$role.out" <<'PY' || fail "role $role: checks failed (above)"
import json, sys
role, path = sys.argv[1], sys.argv[2]
s = json.loads(open(path).read().strip().splitlines()[-1])
m, peer = s["media"], s["peer"]
bykind = {}
for mid, c in s["per_mid"].items():
    bykind[c["kind"]] = c
inb = {i.get("kind"): i for i in peer.get("inbound", [])}
outb = {o.get("kind"): o for o in peer.get("outbound", [])}
a, v = bykind.get("Some(Audio)", {}), bykind.get("Some(Video)", {})
print(f"{role}: ours: audio rx {a.get('received')} echoed {a.get('echoed')}, video rx {v.get('received')} "
      f"({v.get('bytes')} B, {v.get('markers')} frames) echoed {v.get('echoed')}, PLI sent {v.get('plis_sent')}, "
      f"keyframe requests from Chromium {v.get('keyframe_requests')}; rtcp rx {m['rtcp_received']} tx {m['rtcp_sent']}, "
      f"srtp rejected {m['srtp_rejected']}, unroutable {m['rtp_unroutable']}, SRTP after {s['srtp_connected_after_ms']} ms")
print(f"{role}: Chromium inbound video {json.dumps(inb.get('video'))}")
print(f"{role}: Chromium inbound audio {json.dumps(inb.get('audio'))}")
print(f"{role}: Chromium outbound video {json.dumps(outb.get('video'))}")
print(f"{role}: transport {json.dumps(peer.get('transport'))}")
errs = []
if a.get("received", 0) < 100: errs.append("too little audio received from Chromium")
if v.get("received", 0) < 100: errs.append("too little video received from Chromium")
if a.get("echo_errors", 1) or v.get("echo_errors", 1): errs.append("echo send errors")
if m["srtp_rejected"] > 10: errs.append("too many SRTP packets rejected")
if m["rtp_unroutable"] > 0: errs.append("unroutable RTP")
if (inb.get("video") or {}).get("framesDecoded", 0) <= 30: errs.append("Chromium decoded <= 30 frames of our video")
if (inb.get("audio") or {}).get("packetsReceived", 0) <= 100: errs.append("Chromium received <= 100 audio packets from us")
if (outb.get("video") or {}).get("pliCount", 0) < 1: errs.append("Chromium counted no PLI from us")
for e in errs: print("CHECK FAILED:", e)
sys.exit(1 if errs else 0)
PY
done
pass
