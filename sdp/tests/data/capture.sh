#!/usr/bin/env bash
# Re-captures the real-peer SDP fixtures in this folder (one-off; the files are committed).
# Needs: Debian `chromium`, PyPI `aiortc aiohttp`, and /work/shared/interop (or $INTEROP).
# Run as: /work/shared/interop/netns.sh bash sdp/tests/data/capture.sh
# Peers only see 127.0.0.1 (loopback-only namespace; the peers filter candidates too).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
INTEROP="${INTEROP:-/work/shared/interop}"
LOG="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT
python3 "$INTEROP/chromium_peer.py" --port 8701 >"$LOG/chromium.log" 2>&1 &
python3 "$INTEROP/aiortc_peer.py" --port 8702 >"$LOG/aiortc.log" 2>&1 &
for url in http://127.0.0.1:8701/health http://127.0.0.1:8702/health; do
  ok=0
  for _ in $(seq 1 60); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url" 2>/dev/null; then ok=1; break; fi
    sleep 0.5
  done
  [ "$ok" = 1 ] || { echo "FAIL capture: $url not ready"; cat "$LOG"/*.log; exit 1; }
done
OUT="$HERE" python3 - <<'PY'
import json, os, urllib.request
out = os.environ["OUT"]
C, A = "http://127.0.0.1:8701", "http://127.0.0.1:8702"
def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)
def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
def save(name, sdp):
    with open(os.path.join(out, name), "w", newline="") as f:
        f.write(sdp)
    print("wrote", name, len(sdp.splitlines()), "lines")
def read(name):
    with open(os.path.join(out, name), newline="") as f:
        return f.read()
# Chromium offers
save("chrome_datachannel_offer.sdp", get(C + "/offer?mode=echo")["sdp"])
save("chrome_av_offer.sdp", get(C + "/offer?mode=media&videoCodec=&audioCodec=")["sdp"])
av_data = get(C + "/offer?mode=both&videoCodec=&audioCodec=")["sdp"]
save("chrome_av_data_offer.sdp", av_data)
save("chrome_av_h264_offer.sdp", get(C + "/offer?mode=media&videoCodec=H264")["sdp"])
sim = get(C + "/offer?mode=media&simulcast=1")["sdp"]
save("chrome_simulcast_offer.sdp", sim)
# Chromium answers to offers of ours
save("chrome_answer_to_ours_datachannel.sdp", post(C + "/offer", {"type": "offer", "sdp": read("ours_datachannel_offer.sdp"), "mode": "echo"})["sdp"])
save("chrome_answer_to_ours_av_data.sdp", post(C + "/offer", {"type": "offer", "sdp": read("ours_av_data_offer.sdp"), "mode": "both", "videoCodec": "", "audioCodec": ""})["sdp"])
# aiortc offers and answers
save("aiortc_datachannel_offer.sdp", get(A + "/offer?mode=echo")["sdp"])
a_off = get(A + "/offer?mode=both")["sdp"]
save("aiortc_av_data_offer.sdp", a_off)
save("chrome_answer_to_aiortc.sdp", post(C + "/offer", {"type": "offer", "sdp": a_off, "mode": "both"})["sdp"])
save("aiortc_answer_to_chrome_av_data.sdp", post(A + "/offer", {"type": "offer", "sdp": av_data, "mode": "both"})["sdp"])
save("aiortc_answer_to_chrome_simulcast.sdp", post(A + "/offer", {"type": "offer", "sdp": sim, "mode": "media"})["sdp"])
save("aiortc_answer_to_ours_av_data.sdp", post(A + "/offer", {"type": "offer", "sdp": read("ours_av_data_offer.sdp"), "mode": "both"})["sdp"])
PY
echo "PASS capture"
