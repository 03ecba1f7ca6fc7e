#!/usr/bin/env bash
# sansrtc's ICE agent (ice/examples/ice_udp.rs, real loopback UDP) completes ICE with aioice
# (PyPI) in both roles, exchanging credentials and candidates over stdin/stdout, then a
# ping/pong crosses the selected pair.
set -euo pipefail
CASE=ice_aioice
source interop/lib.sh
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p sansrtc-ice --example ice_udp >&2 || fail "build failed"
bin="$target/release/examples/ice_udp"
for role in controlling controlled; do
    timeout 60 python3 interop/py/ice_aioice_peer.py "$bin" "$role" 2>"/tmp/ice_aioice_$role.log" \
        || fail "our agent $role: $(tail -5 "/tmp/ice_aioice_$role.log" | tr '\n' ' ')"
done
pass
