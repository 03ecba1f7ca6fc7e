# Sourced by interop/cases/peer_*_datachannel.sh after lib.sh.
# dc_echo_both_roles NAME SCRIPT PORT: starts the HTTP-signaling peer SCRIPT on PORT, then runs
# peer/examples/dc_peer.rs (a real UDP socket) against it as offerer and as answerer; 1000
# mixed messages each time must come back byte-identical, same type, in order (checked by
# dc_peer), and the peer's /stats must count them.
dc_echo_both_roles() {
    local name="$1" script="$2" port="$3"
    local target="${CARGO_TARGET_DIR:-target}"
    cargo build --release -q -p sansrtc --example dc_peer >&2 || fail "build failed"
    local bin="$target/release/examples/dc_peer" work
    work="$(mktemp -d)"
    start_http_peer "$script" "$port" "$work/peer.log"
    local count=1000 role stats got
    for role in offer answer; do
        timeout 60 "$bin" --url "http://127.0.0.1:$port" --role "$role" --count "$count" \
            >"$work/$role.out" 2>"$work/$role.err" \
            || fail "role $role: $(tail -5 "$work/$role.err" | tr '\n' ' ')"
        cat "$work/$role.out" >&2
        stats="$(http GET "http://127.0.0.1:$port/stats")" || fail "no /stats after $role"
        got="$(printf '%s' "$stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(c.get("messagesReceived",0) for c in d.get("datachannels",[])))')"
        [ "$got" = "$count" ] || fail "role $role: $name counted $got messages, want $count"
    done
}
