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
