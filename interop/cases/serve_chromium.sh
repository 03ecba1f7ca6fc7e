#!/usr/bin/env bash
# `sansrtc serve` opened by headless Chromium (interop/py/serve_browser.py drives the page
# over the DevTools protocol):
# 1. the served page's echo test (?auto=echo): Chromium's RTCPeerConnection offers, POST /echo
#    answers with the server's sansrtc engine, 1000 messages (text and binary, 1 B-64 KiB)
#    must come back identical and in order (checked in the page), and the server must count
#    1000 echoed;
# 2. two tabs in one room (?auto=room): Chromium to Chromium through our /ws signaling
#    (offer, answer, trickled candidates relayed), 200 chat messages each way, in order;
# and Chromium used our STUN server (the page's iceServers) on the same port.
set -euo pipefail
CASE=serve_chromium
source interop/lib.sh
port=8090
log="$(mktemp)"
"$SANSRTC_BIN" serve --listen "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
PIDS+=($server)
wait_for_line "$log" "listening on" 10 || fail "server did not start: $(cat "$log")"
http GET "http://127.0.0.1:$port/health" | grep -q '"ok":true' || fail "no /health"
base="http://127.0.0.1:$port/"

out="$(mktemp)"
timeout 120 python3 interop/py/serve_browser.py --url "${base}?auto=echo&count=1000" >"$out" 2>&1 \
    || fail "echo page: $(cat "$out") / server: $(tail -5 "$log")"
cat "$out" >&2
python3 - "$out" <<'PY' || fail "echo result: $(cat "$out")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][0]
assert r["ok"] and r["echoed"] == 1000 and r["count"] == 1000, r
print(f"echo: 1000 messages, {r['bytes']} B, connect {r['connectMs']} ms, echo {r['ms']} ms", file=sys.stderr)
PY

timeout 120 python3 interop/py/serve_browser.py \
    --url "${base}?auto=room&room=interop&count=200" \
    --url "${base}?auto=room&room=interop&count=200" >"$out" 2>&1 \
    || fail "room pages: $(cat "$out") / server: $(tail -5 "$log")"
cat "$out" >&2
python3 - "$out" <<'PY' || fail "room result: $(cat "$out")"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
assert len(rs) == 2 and all(r["ok"] and r["received"] == 200 for r in rs), rs
assert {rs[0]["me"], rs[0]["peer"]} == {rs[1]["me"], rs[1]["peer"]}, rs
PY

kill -INT "$server"
wait_for_line "$log" "shutting down" 5 || fail "no graceful shutdown on SIGINT: $(cat "$log")"
cat "$log" >&2
grep -q "1000 messages echoed" "$log" || fail "server did not count 1000 echoes: $(tail -1 "$log")"
python3 - "$log" <<'PY' || fail "counters: $(tail -1 "$log")"
import re, sys
last = open(sys.argv[1]).read().strip().splitlines()[-1]
relayed = int(re.search(r"(\d+) messages relayed", last).group(1))
answered = int(re.search(r"(\d+) answered\)", last).group(1))
assert relayed >= 2, f"signaling relayed {relayed}"   # at least the offer and the answer
assert answered >= 1, f"STUN answered {answered}"     # Chromium gathered srflx from us
PY
pass
