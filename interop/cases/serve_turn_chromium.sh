#!/usr/bin/env bash
# `sansrtc serve --turn`: TURN inside serve, credentials for the page from /ice-servers.
# 1. /ice-servers hands out a STUN and a TURN entry whose credential is
#    base64(HMAC-SHA1(secret, username)) (checked here with Python's hmac);
# 2. headless Chromium opens the page with ?relay=1 (iceTransportPolicy "relay"): it may only
#    use relayed candidates, which only our TURN can give it (credential from /ice-servers);
#    the echo test (200 messages, text and binary, 1 B-64 KiB) must complete, getStats must
#    show a relay local candidate on the selected pair, and the server must count the
#    allocation and relayed datagrams; two relay-only tabs in one room exchange 200 chat
#    messages each way relay to relay (both selected candidates are relayed addresses);
#    The same echo with ?relay=tcp: Chromium's only candidates are relayed over TURN/TCP on
#    the HTTP port (the connection sorted by its first byte);
# 3. coturn's turnutils_uclient allocates on serve's TURN with a REST credential made from the
#    same secret (-W), relays to a turnutils_peer echo peer, 0 lost, over UDP and over TCP.
set -euo pipefail
CASE=serve_turn_chromium
source interop/lib.sh
port=8091
secret="interop-turn-secret"
log="$(mktemp)"
"$SANSRTC_BIN" serve --listen "127.0.0.1:$port" --turn --turn-secret "$secret" \
    --turn-allow-peer 127.0.0.0/8 --turn-relay-ports 49160-49200 --turn-verbose >"$log" 2>&1 &
server=$!
PIDS+=($server)
wait_for_line "$log" "listening on" 10 || fail "server did not start: $(cat "$log")"
base="http://127.0.0.1:$port/"
http GET "${base}health" | grep -q '"turn":{"port":'"$port" || fail "no turn in /health: $(http GET "${base}health")"

ice="$(mktemp)"
http GET "${base}ice-servers" >"$ice" || fail "no /ice-servers"
python3 - "$ice" "$secret" "$port" <<'PY' || fail "ice-servers: $(cat "$ice")"
import base64, hashlib, hmac, json, sys, time
d = json.load(open(sys.argv[1]))
secret, port = sys.argv[2].encode(), sys.argv[3]
stun, turn = d["iceServers"]
assert stun["urls"] == [f"stun:127.0.0.1:{port}"], stun
assert turn["urls"] == [f"turn:127.0.0.1:{port}?transport=udp", f"turn:127.0.0.1:{port}?transport=tcp"], turn
expiry, _, name = turn["username"].partition(":")
assert name and abs(int(expiry) - time.time() - d["ttl"]) < 60, (turn, d["ttl"])
want = base64.b64encode(hmac.new(secret, turn["username"].encode(), hashlib.sha1).digest()).decode()
assert turn["credential"] == want, (turn, want)
print(f"ice-servers: {turn['username']} valid {d['ttl']} s, credential verified", file=sys.stderr)
PY

out="$(mktemp)"
timeout 120 python3 interop/py/serve_browser.py --url "${base}?auto=echo&count=200&relay=1" >"$out" 2>&1 \
    || fail "relay echo page: $(cat "$out") / server: $(tail -5 "$log")"
cat "$out" >&2
python3 - "$out" <<'PY' || fail "relay echo result: $(cat "$out")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][0]
assert r["ok"] and r["echoed"] == 200 and r["count"] == 200, r
p = r["path"]
assert p and p["local"] == "relay" and p["relayProtocol"] == "udp", p
assert p["localAddress"].startswith("127.0.0.1:"), p
assert 49160 <= int(p["localAddress"].rsplit(":", 1)[1]) <= 49200, p
print(f"relay echo: 200 messages, {r['bytes']} B, connect {r['connectMs']} ms, echo {r['ms']} ms, "
      f"path {p['localAddress']} ({p['local']}) -> {p['remoteAddress']} ({p['remote']})", file=sys.stderr)
PY
# TURN over TCP on the HTTP port (?relay=tcp keeps only the transport=tcp URL): the same echo.
timeout 120 python3 interop/py/serve_browser.py --url "${base}?auto=echo&count=200&relay=tcp" >"$out" 2>&1 \
    || fail "relay tcp echo page: $(cat "$out") / server: $(tail -5 "$log")"
cat "$out" >&2
python3 - "$out" <<'PY' || fail "relay tcp echo result: $(cat "$out")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][0]
assert r["ok"] and r["echoed"] == 200, r
p = r["path"]
assert p and p["local"] == "relay" and p["relayProtocol"] == "tcp", p
print(f"relay tcp echo: 200 messages, connect {r['connectMs']} ms, echo {r['ms']} ms, "
      f"path {p['localAddress']} ({p['local']}/{p['relayProtocol']}) -> {p['remoteAddress']} ({p['remote']})", file=sys.stderr)
PY

# Two relay-only tabs in one room: Chromium to Chromium through /ws, relay to relay through
# our TURN (each tab's relayed address is a peer of the other's allocation).
timeout 120 python3 interop/py/serve_browser.py \
    --url "${base}?auto=room&room=relay&count=200&relay=1" \
    --url "${base}?auto=room&room=relay&count=200&relay=1" >"$out" 2>&1 \
    || fail "relay room pages: $(cat "$out") / server: $(tail -5 "$log")"
cat "$out" >&2
python3 - "$out" <<'PY' || fail "relay room result: $(cat "$out")"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
assert len(rs) == 2 and all(r["ok"] and r["received"] == 200 for r in rs), rs
for r in rs:
    p = r["path"]
    assert p and p["local"] == "relay" and p["remote"] == "relay", p
    assert 49160 <= int(p["remoteAddress"].rsplit(":", 1)[1]) <= 49200, p
print(f"relay room: 200 messages each way, paths {[r['path']['localAddress'] + ' -> ' + r['path']['remoteAddress'] for r in rs]}", file=sys.stderr)
PY
grep -q "turn: allocation for [0-9]*:web" "$log" || fail "no TURN allocation logged: $(cat "$log")"
health="$(http GET "${base}health")"
echo "$health" | python3 -c 'import json,sys; t=json.load(sys.stdin)["turn"]; assert t["created"] >= 1, t' \
    || fail "health does not count the allocation: $health"

# coturn's client with a REST credential from the same secret (-W), against serve's TURN.
turnutils_peer -L 127.0.0.1 -p 3481 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
uc="$(timeout 60 turnutils_uclient -W "$secret" -u uclient -n 50 -m 2 -l 170 \
    -e 127.0.0.1 -r 3481 -p "$port" 127.0.0.1 2>&1)" || fail "uclient exited non-zero: $(echo "$uc" | tail -20)"
echo "$uc" | grep -E "Total (transmit|lost)" | sed "s|^|uclient: |" >&2
echo "$uc" | grep -Eq "Total lost packets 0 \(0\.0+%\)" || fail "uclient lost packets: $(echo "$uc" | tail -20)"
recv="$(echo "$uc" | grep -Eo 'tot_recv_msgs=[0-9]+' | tail -1 | cut -d= -f2)"
[ "${recv:-0}" -ge 100 ] || fail "uclient received only ${recv:-0}: $(echo "$uc" | tail -20)"
uc="$(timeout 60 turnutils_uclient -t -W "$secret" -u uclient -n 50 -m 2 -l 170 \
    -e 127.0.0.1 -r 3481 -p "$port" 127.0.0.1 2>&1)" || fail "uclient -t exited non-zero: $(echo "$uc" | tail -20)"
echo "$uc" | grep -E "Total (transmit|lost)" | sed "s|^|uclient over TCP: |" >&2
echo "$uc" | grep -Eq "Total lost packets 0 \(0\.0+%\)" || fail "uclient -t lost packets: $(echo "$uc" | tail -20)"
recv="$(echo "$uc" | grep -Eo 'tot_recv_msgs=[0-9]+' | tail -1 | cut -d= -f2)"
[ "${recv:-0}" -ge 100 ] || fail "uclient -t received only ${recv:-0}: $(echo "$uc" | tail -20)"
# HTTP still answers on the port TURN over TCP shares.
http GET "${base}health" | grep -q '"ok":true' || fail "no /health after TURN over TCP"
# A wrong secret is refused.
bad="$(timeout 20 turnutils_uclient -W wrong-secret -u uclient -n 1 -m 1 -e 127.0.0.1 -r 3481 \
    -p "$port" 127.0.0.1 2>&1 || true)"
echo "$bad" | grep -Eqi "401|unauthori|error" || fail "wrong secret not refused: $(echo "$bad" | tail -10)"

kill -INT "$server"
wait_for_line "$log" "shutting down" 5 || fail "no graceful shutdown on SIGINT: $(cat "$log")"
cat "$log" >&2
python3 - "$log" <<'PY' || fail "counters: $(tail -1 "$log")"
import re, sys
last = open(sys.argv[1]).read().strip().splitlines()[-1]
echoed = int(re.search(r"(\d+) messages echoed", last).group(1))
created = int(re.search(r"turn: allocations: (\d+) created", last).group(1))
to_peers = int(re.search(r"relayed (\d+) to peers", last).group(1))
assert echoed == 400, f"echoed {echoed}"  # two echo pages, 200 each
assert created >= 6, f"allocations {created}"  # Chromium's four tabs, and uclient's
assert to_peers >= 200, f"relayed {to_peers} to peers"
PY
pass
