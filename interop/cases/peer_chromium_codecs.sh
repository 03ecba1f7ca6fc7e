#!/usr/bin/env bash
# sansrtc PeerConnection video codecs against headless Chromium (fake camera + microphone):
# for VP9, AV1 and H.264, Chromium (chromium_peer.py --video-codec C, which makes it prefer C
# with setCodecPreferences) and peer/examples/media_echo.rs --codec C (offers and accepts
# only C) negotiate that codec, Chromium encodes and sends it, media_echo decrypts, routes and
# echoes every packet back on its own SSRC (same payload type, Chromium's sequence numbers),
# and Chromium decodes the echo. Both offer directions per codec. Checked:
#   ours:     the video mid negotiated exactly C (media_echo's "codecs" line), >= 50 video
#             and audio packets received, all echoed, nothing unroutable, at most a handful
#             of SRTP rejections (packets racing the handshake);
#   Chromium: getStats() outbound video codec video/C with framesEncoded > 0 (it can encode
#             C), inbound video codec video/C with framesDecoded > 10 (our echo decoded).
set -euo pipefail
CASE=peer_chromium_codecs
source interop/lib.sh
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p sansrtc --example media_echo >&2 || fail "build failed"
bin="$target/release/examples/media_echo"
work="$(mktemp -d)"
port=8705
for codec in VP9 AV1 H264; do
    python3 interop/py/chromium_peer.py --port "$port" --video-codec "$codec" >"$work/peer-$codec.log" 2>&1 &
    peer=$!
    PIDS+=("$peer")
    for _ in $(seq 1 100); do
        http GET "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
        sleep 0.2
    done
    http GET "http://127.0.0.1:$port/health" >/dev/null 2>&1 || fail "Chromium ($codec) not ready: $(tail -3 "$work/peer-$codec.log")"
    for role in offer answer; do
        timeout 60 "$bin" --url "http://127.0.0.1:$port" --role "$role" --mode media --seconds 6 \
            --codec "$codec" >"$work/$codec-$role.out" 2>"$work/$codec-$role.err" \
            || fail "$codec role $role: $(tail -5 "$work/$codec-$role.err" | tr '\n' ' ')"
        codecs_line="$(grep -m1 'Video .* codecs' "$work/$codec-$role.err" || true)"
        python3 - "$codec" "$role" "$work/$codec-$role.out" "$codecs_line" <<'PY' || fail "$codec role $role: checks failed (above)"
import json, sys
codec, role, path, codecs_line = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
s = json.loads(open(path).read().strip().splitlines()[-1])
m, peer = s["media"], s["peer"]
bykind = {c["kind"]: c for c in s["per_mid"].values()}
a, v = bykind.get("Some(Audio)", {}), bykind.get("Some(Video)", {})
inb = {i.get("kind"): i for i in peer.get("inbound", [])}
outb = {o.get("kind"): o for o in peer.get("outbound", [])}
iv, ov = inb.get("video") or {}, outb.get("video") or {}
want = f"video/{codec}".lower()
print(f"{codec} {role}: ours: {codecs_line.split('media_echo: ')[-1]}")
print(f"{codec} {role}: ours: video rx {v.get('received')} ({v.get('bytes')} B, {v.get('markers')} frames) "
      f"echoed {v.get('echoed')}, audio rx {a.get('received')} echoed {a.get('echoed')}; srtp rejected "
      f"{m['srtp_rejected']}, unroutable {m['rtp_unroutable']}, SRTP after {s['srtp_connected_after_ms']} ms")
print(f"{codec} {role}: Chromium outbound video {json.dumps(ov)}")
print(f"{codec} {role}: Chromium inbound video {json.dumps(iv)}")
errs = []
if f'"{codec}"' not in codecs_line or codecs_line.count('"') != 2:
    errs.append(f"we did not negotiate exactly {codec}")
if v.get("received", 0) < 50: errs.append("too little video received")
if a.get("received", 0) < 50: errs.append("too little audio received")
if a.get("echo_errors", 1) or v.get("echo_errors", 1): errs.append("echo send errors")
if m["srtp_rejected"] > 10: errs.append("too many SRTP packets rejected")
if m["rtp_unroutable"] > 0: errs.append("unroutable RTP")
if (ov.get("codec") or "").lower() != want: errs.append(f"Chromium sent {ov.get('codec')}, not {want}")
if ov.get("framesEncoded", 0) <= 0: errs.append("Chromium encoded no frame")
if (iv.get("codec") or "").lower() != want: errs.append(f"Chromium received {iv.get('codec')}, not {want}")
if iv.get("framesDecoded", 0) <= 10: errs.append("Chromium decoded <= 10 frames of our echo")
for e in errs: print("CHECK FAILED:", e)
sys.exit(1 if errs else 0)
PY
    done
    kill "$peer" 2>/dev/null || true
    wait "$peer" 2>/dev/null || true
done
pass
