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
# Then again with mode both: media and a data channel (20-message echo) in one BUNDLE group.
# Against Chromium, two more runs drop every 20th RTP datagram each way inside media_echo:
# Chromium must NACK what we lost on the way out and we resend it from our history, we NACK
# what we lost on the way in and Chromium resends it (its outbound nackCount and
# retransmittedPacketsSent), and Chromium still decodes.
# peer_aiortc_media.sh runs this file against aiortc (PEER_* variables).
set -euo pipefail
CASE="${CASE:-peer_chromium_media}"
PEER_NAME="${PEER_NAME:-Chromium}"
PEER_SCRIPT="${PEER_SCRIPT:-interop/py/chromium_peer.py}"
PEER_PORT="${PEER_PORT:-8703}"
source interop/lib.sh
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p sansrtc --example media_echo >&2 || fail "build failed"
bin="$target/release/examples/media_echo"
work="$(mktemp -d)"
port="$PEER_PORT"
start_http_peer "$PEER_SCRIPT" "$port" "$work/peer.log"
runs="offer:media:0 answer:media:0 offer:both:0 answer:both:0"
[ "$PEER_NAME" = Chromium ] && runs="$runs offer:media:20 answer:media:20"
for run in $runs; do
    IFS=: read -r role mode loss <<<"$run"
    timeout 60 "$bin" --url "http://127.0.0.1:$port" --role "$role" --mode "$mode" --seconds 8 \
        --loss-every "$loss" \
        >"$work/$role.out" 2>"$work/$role.err" \
        || fail "role $role mode $mode: $(tail -5 "$work/$role.err" | tr '\n' ' ')"
    python3 - "$role $mode loss 1/$loss" "$work/$role.out" "$PEER_NAME" "$loss" <<'PY' || fail "role $role mode $mode loss $loss: checks failed (above)"
import json, sys
role, path, peer_name, loss = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
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
print(f"{role}: data channel messages echoed: {s['dc_echoed']}")
print(f"{role}: {peer_name} inbound video {json.dumps(inb.get('video'))}")
print(f"{role}: {peer_name} inbound audio {json.dumps(inb.get('audio'))}")
print(f"{role}: {peer_name} outbound video {json.dumps(outb.get('video'))}")
print(f"{role}: transport {json.dumps(peer.get('transport'))}")
errs = []
if loss:
    print(f"{role}: dropped in {m['dropped_in']} out {m['dropped_out']}; we sent {m['nacks_sent']} NACKs and "
          f"resent {m['rtp_retransmitted']} packets for {m['nacks_received']} NACKs")
    if m["nacks_sent"] < 1: errs.append("we sent no NACK")
    if m["rtp_retransmitted"] < 1: errs.append("we retransmitted nothing")
    if (outb.get("video") or {}).get("nackCount", 0) < 1: errs.append(f"{peer_name} counted no NACK from us")
    if (outb.get("video") or {}).get("retransmittedPacketsSent", 0) < 1: errs.append(f"{peer_name} resent nothing")
    if (inb.get("video") or {}).get("nackCount", 0) < 1: errs.append(f"{peer_name} sent no NACK")
if a.get("received", 0) < 100: errs.append(f"too little audio received from {peer_name}")
if v.get("received", 0) < 100: errs.append(f"too little video received from {peer_name}")
if a.get("echo_errors", 1) or v.get("echo_errors", 1): errs.append("echo send errors")
if m["srtp_rejected"] > 10: errs.append("too many SRTP packets rejected")
if m["rtp_unroutable"] > 0: errs.append("unroutable RTP")
if (inb.get("video") or {}).get("framesDecoded", 0) <= 30: errs.append(f"{peer_name} decoded <= 30 frames of our video")
if (inb.get("audio") or {}).get("packetsReceived", 0) <= 100: errs.append(f"{peer_name} received <= 100 audio packets from us")
if peer_name == "Chromium" and (outb.get("video") or {}).get("pliCount", 0) < 1: errs.append("Chromium counted no PLI from us")
if role.endswith("both") and s["dc_echoed"] != 20: errs.append("data channel echo incomplete")
for e in errs: print("CHECK FAILED:", e)
sys.exit(1 if errs else 0)
PY
done
pass
