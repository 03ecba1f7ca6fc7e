#!/usr/bin/env bash
# The interop suite: sansrtc against real, independently written peers.
#
#   bash interop/run.sh            # every case in interop/cases/
#   bash interop/run.sh stun       # only cases whose file name contains "stun"
#
# Installs the peers (install.sh), builds the sansrtc binary, then runs each case inside a
# fresh network namespace that has only loopback (netns.sh): the machine has other
# interfaces, and test traffic must never leave 127.0.0.0/8. Prints PASS/FAIL per case and a
# closing "N passed, N failed" line; exits non-zero if any case failed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
filter="${1:-}"

bash interop/install.sh
# Everything the cases need is built (and fetched) here, outside the namespace, which has no
# route to the package registry.
cargo fetch -q
cargo build --release -q -p sansrtc-cli
export SANSRTC_BIN="${CARGO_TARGET_DIR:-$root/target}/release/sansrtc"

passed=0
failed=0
failures=()
for case in interop/cases/*.sh; do
    name="$(basename "$case" .sh)"
    [[ -n "$filter" && "$name" != *"$filter"* ]] && continue
    log="$(mktemp -t "interop-$name.XXXXXX.log")"
    start=$(date +%s)
    if timeout --kill-after=10 300 interop/netns.sh bash "$case" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS $name ($(( $(date +%s) - start )) s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "FAIL $name ($(( $(date +%s) - start )) s); its output:"
        sed 's/^/    /' "$log" | tail -n 60
    fi
    rm -f "$log"
done
echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || { echo "failed cases: ${failures[*]}"; exit 1; }
