#!/usr/bin/env bash
# sansrtc-srtp against libsrtp (pylibsrtp's bundled libsrtp 2.x), both directions, for
# SRTP_AES128_CM_HMAC_SHA1_80/_32 and SRTP_AEAD_AES_128/256_GCM: 300 SRTP packets across the
# 65535 -> 0 sequence wraparound (ROC 0 -> 1) delivered with local reordering, CSRCs and
# header extensions; 20 SRTCP compound packets each way (libsrtp starts its SRTCP index at 1,
# we at 0); negative cases (bit flips, replays, wrong key) refused.
# Driver: srtp/examples/libsrtp_check.py; our side: srtp/examples/srtp_tool.rs.
set -euo pipefail
NAME=srtp_libsrtp
TARGET=${CARGO_TARGET_DIR:-target}
fail() { echo "FAIL $NAME: $*"; exit 1; }
python3 -c 'import pylibsrtp' 2>/dev/null || fail "pylibsrtp not installed (interop/packages.pip)"
cargo build --release -q -p sansrtc-srtp --example srtp_tool >&2 || fail "build failed"
BIN=$TARGET/release/examples/srtp_tool
[ -x "$BIN" ] || fail "no binary at $BIN"
if OUT=$(timeout 120 python3 srtp/examples/libsrtp_check.py "$BIN" 2>&2); then
  echo "PASS $NAME"
else
  fail "${OUT:-timeout or crash}"
fi
