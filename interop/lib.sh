# Shared helpers for interop cases (source interop/lib.sh). Cases run inside a loopback-only
# network namespace with the repository root as the current directory.
: "${SANSRTC_BIN:=${CARGO_TARGET_DIR:-target}/release/sansrtc}"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "FAIL $CASE: $*"; exit 1; }
pass() { echo "PASS $CASE"; }
# wait_for_line FILE PATTERN SECONDS: waits until FILE contains PATTERN.
wait_for_line() {
    local deadline=$(( $(date +%s) + $3 ))
    until grep -q -- "$2" "$1" 2>/dev/null; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}
# http METHOD URL [JSON_BODY_FILE]: prints the response body (python3, no curl needed);
# fails on HTTP errors.
http() {
    python3 - "$@" <<'PY'
import sys, urllib.request
method, url = sys.argv[1], sys.argv[2]
data = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=30) as r:
    sys.stdout.write(r.read().decode())
PY
}
# json_get FIELD < JSON: prints one string field.
json_get() { python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# start_http_peer SCRIPT PORT LOG: starts an HTTP-signaling peer of interop/py (or a patched
# copy) and waits up to 20 s for its /health; fails the case with the log's tail otherwise.
start_http_peer() {
    python3 "$1" --port "$2" >"$3" 2>&1 &
    PIDS+=($!)
    local _
    for _ in $(seq 1 100); do
        if http GET "http://127.0.0.1:$2/health" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    fail "$1 on port $2 not ready: $(tail -3 "$3" | tr '\n' ' ')"
}
# body SDP_FILE TYPE [ID]: a signaling request body (mode both, every default codec).
body() {
    python3 -c 'import json,sys; d={"type":sys.argv[2],"sdp":open(sys.argv[1],newline="").read(),"mode":"both","videoCodec":"","audioCodec":""}
if len(sys.argv)>3: d["id"]=sys.argv[3]
print(json.dumps(d))' "$@"
}
