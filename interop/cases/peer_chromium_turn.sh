#!/usr/bin/env bash
# The sansrtc PeerConnection (peer/examples/dc_peer.rs, a real UDP socket) through a real TURN
# relay (coturn, started here on loopback with long-term credentials and loopback peers
# allowed) against headless Chromium, with our relay-only ICE policy (--relay-only:
# Config::ice.relay_only, W3C iceTransportPolicy "relay"):
# 1. we offer, 2. Chromium offers, then both again with Chromium relay-only too (its own
#    allocation on the same coturn); dc_peer sends local_description() after gathering, so
#    our description carries our relayed candidate and no host one. Each time 1000 mixed
#    messages are echoed byte-identical, in order (checked by dc_peer), Chromium's /stats
#    counts 1000 received, and the path is the relay: our selected local address is a coturn
#    relay address (127.0.0.1:49160-49200), Chromium's selected pair has exactly that address
#    as its remote end, and a relay candidate as its local end when it is relay-only;
# 3. media_echo --relay-only --mode both (VP8 + Opus echo + 20 data channel messages), both
#    roles: relayed selected pair on both sides, Chromium decodes > 30 frames of our echo;
# 4. a wrong TURN password: the allocation is refused, dc_peer reports ICE failed (no hang).
set -euo pipefail
CASE=peer_chromium_turn
source interop/lib.sh
command -v turnserver >/dev/null || fail "coturn (turnserver) is not installed"
target="${CARGO_TARGET_DIR:-target}"
if [ -z "${DC_PEER:-}" ]; then
    cargo build --release -q -p sansrtc --example dc_peer >&2 || fail "build failed"
fi
bin="${DC_PEER:-$target/release/examples/dc_peer}"
work="$(mktemp -d)"

turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port=3478 \
    --min-port=49160 --max-port=49200 --realm=interop.local --fingerprint \
    --lt-cred-mech --user=webrtc:webrtc-pass \
    --allow-loopback-peers --allowed-peer-ip=127.0.0.1-127.255.255.255 \
    --no-tls --no-dtls --no-cli --no-rfc5780 --no-stun-backward-compatibility \
    --log-file="$work/coturn.log" --simple-log --verbose \
    --userdb="$work/turndb.sqlite" --pidfile="$work/coturn.pid" >/dev/null 2>&1 &
PIDS+=($!)
wait_for_line "$work/coturn.log" "Total General servers" 10 \
    || wait_for_line "$work/coturn.log" "listener opened on" 5 \
    || fail "coturn did not start: $(tail -20 "$work/coturn.log" 2>/dev/null)"
sleep 0.3

start_http_peer interop/py/chromium_peer.py 8701 "$work/chromium.log"
# Chromium relay-only too, through the same coturn (its own allocation).
python3 interop/py/chromium_peer.py --port 8711 --relay-only --ice-servers \
    '[{"urls":"turn:127.0.0.1:3478?transport=udp","username":"webrtc","credential":"webrtc-pass"}]' \
    >"$work/chromium-relay.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do http GET http://127.0.0.1:8711/health >/dev/null 2>&1 && break; sleep 0.2; done
turn=(--turn turn:127.0.0.1:3478 --turn-user webrtc --turn-pass webrtc-pass --relay-only)
count=1000
for run in "8701 offer" "8701 answer" "8711 offer" "8711 answer"; do
    port="${run% *}" role="${run#* }"
    timeout 60 "$bin" --url "http://127.0.0.1:$port" --role "$role" --count "$count" "${turn[@]}" \
        >"$work/$port-$role.out" 2>"$work/$port-$role.err" \
        || fail "role $role: $(tail -5 "$work/$port-$role.err" | tr '\n' ' ')"
    cat "$work/$port-$role.out" >&2
    grep -q "dc_peer: OK $role: $count messages" "$work/$port-$role.out" || fail "role $role: no OK line"
    sel="$(sed -n 's/^dc_peer: selected pair local \([0-9.:]*\) remote \([0-9.:]*\) (relayed)$/\1 \2/p' "$work/$port-$role.out")"
    [ -n "$sel" ] || fail "role $role: no relayed selected pair in: $(cat "$work/$port-$role.out")"
    ours="${sel%% *}"
    rport="${ours##*:}"
    [[ "${ours%:*}" == 127.0.0.1 && "$rport" -ge 49160 && "$rport" -le 49200 ]] \
        || fail "role $role: selected local $ours is not a coturn relay address"
    # Relay-only: our description carries our relayed candidate and no host candidate.
    grep "^dc_peer: our description has" "$work/$port-$role.err" | grep -q "typ relay" \
        || fail "role $role: our relayed candidate was not signaled"
    grep -q "^dc_peer: our description has" "$work/$port-$role.err" || fail "role $role: no candidate line"
    ! grep "^dc_peer: our description has" "$work/$port-$role.err" | grep -q "typ host" \
        || fail "role $role: relay-only, but a host candidate was signaled"
    grep "^dc_peer: our description has" "$work/$port-$role.err" >&2
    stats="$(http GET "http://127.0.0.1:$port/stats")" || fail "no /stats after $role"
    printf '%s' "$stats" | python3 -c '
import json, sys
d = json.load(sys.stdin)
want_count, ours = int(sys.argv[1]), sys.argv[2]
got = sum(c.get("messagesReceived", 0) for c in d.get("datachannels", []))
sp = d.get("selectedPair") or {}
rem, loc = sp.get("remote") or {}, sp.get("local") or {}
remote = "%s:%s" % (rem.get("address"), rem.get("port"))
print("Chromium: %d messages received; selected pair local %s:%s (%s) remote %s (%s)" % (
    got, loc.get("address"), loc.get("port"), loc.get("candidateType"), remote, rem.get("candidateType")))
if got != want_count:
    sys.exit("Chromium counted %d messages, want %d" % (got, want_count))
# Chromium learned our relayed address from our checks (peer-reflexive: the non-trickle
# description cannot carry it yet), and getStats hides a prflx remote address, so for prflx
# the port is what can be compared.
if rem.get("candidateType") == "prflx" and not rem.get("address"):
    same = str(rem.get("port")) == ours.rsplit(":", 1)[1]
else:
    same = remote == ours
if not same or rem.get("candidateType") not in ("prflx", "relay"):
    sys.exit("Chromium selected remote %s (%s), but our relayed address is %s" % (
        remote, rem.get("candidateType"), ours))
if sys.argv[3] == "8711" and loc.get("candidateType") != "relay":
    sys.exit("Chromium is relay-only but its selected local is %s" % loc.get("candidateType"))
' "$count" "$ours" "$port" >&2 || fail "$port role $role: Chromium stats check failed"
    echo "$port role $role: through the relay $ours" >&2
done
# coturn saw our allocations and relayed for them.
grep -qi "ALLOCATE processed, success" "$work/coturn.log" || fail "coturn logged no successful allocation"

# Media through the relay: media_echo --relay-only --mode both (VP8 + Opus echoed, 20 data
# channel echoes in the same BUNDLE group), both roles; media_echo itself requires packets on
# both mids, all authenticated, and the 20 echoes; here also the relayed selected pair and
# Chromium decoding our echoed video.
cargo build --release -q -p sansrtc --example media_echo >&2 || fail "build failed"
for role in offer answer; do
    timeout 60 "$target/release/examples/media_echo" --url http://127.0.0.1:8701 --role "$role" \
        --mode both --seconds 6 "${turn[@]}" >"$work/media-$role.out" 2>"$work/media-$role.err" \
        || fail "media $role: $(tail -5 "$work/media-$role.err" | tr '\n' ' ')"
    ours="$(sed -n 's/^media_echo: SelectedPair { local: \([0-9.:]*\),.*/\1/p' "$work/media-$role.err" | tail -1)"
    rport="${ours##*:}"
    [[ "${ours%:*}" == 127.0.0.1 && "$rport" -ge 49160 && "$rport" -le 49200 ]] \
        || fail "media $role: selected local '$ours' is not a coturn relay address"
    python3 - "$work/media-$role.out" "$rport" >&2 <<'PY' || fail "media $role: check failed"
import json, sys
d = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
p = d.get("peer", {})
video = [i for i in p.get("inbound", []) if i.get("kind") == "video"]
frames = video[0].get("framesDecoded", 0) if video else 0
rem = (p.get("selectedPair") or {}).get("remote") or {}
m = d.get("media", {})
print("media %s: rtp in %s out %s, srtp_rejected %s; Chromium decoded %s frames of our echo; "
      "its selected remote port %s (%s)" % (d.get("role"), m.get("rtp_received"), m.get("rtp_sent"),
      m.get("srtp_rejected"), frames, rem.get("port"), rem.get("candidateType")))
if frames <= 30 or str(rem.get("port")) != sys.argv[2] or m.get("srtp_rejected"):
    sys.exit("not through the relay, or not enough decoded")
PY
done

# Wrong password: refused allocation, ICE fails, the example exits non-zero promptly.
t0=$(date +%s)
if timeout 40 "$bin" --url http://127.0.0.1:8701 --role offer --count 10 \
    --turn turn:127.0.0.1:3478 --turn-user webrtc --turn-pass wrong --relay-only \
    >"$work/bad.out" 2>"$work/bad.err"; then
    fail "wrong TURN password: dc_peer succeeded"
fi
grep -q "FAILED: ICE failed" "$work/bad.err" || fail "wrong TURN password: not an ICE failure: $(tail -3 "$work/bad.err" | tr '\n' ' ')"
echo "wrong TURN password: $(grep 'FAILED' "$work/bad.err") ($(( $(date +%s) - t0 )) s)" >&2
pass
