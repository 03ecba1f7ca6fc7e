#!/usr/bin/env bash
# Our DTLS server (dtls/examples/dtls_server.rs) against `openssl s_client -dtls1_2` with an
# ECDSA P-256 client certificate and -use_srtp. Checks: handshake, SRTP profile, the RFC 5764
# exported keying material equal on both sides, our fingerprint check of openssl's client
# certificate (mutual authentication), and application data echoed back by our server.
# Two runs: AES-128-GCM / SRTP_AEAD_AES_128_GCM and AES-256-GCM-SHA384 / SRTP_AES128_CM_SHA1_32.
set -euo pipefail
NAME=dtls_openssl_server
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p sansrtc-dtls --example dtls_server >&2 || { echo "FAIL $NAME: cargo build failed"; exit 1; }
BIN=$TARGET/release/examples/dtls_server
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT
fail() { echo "FAIL $NAME: $*"; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
  -subj /CN=openssl-client -keyout "$DIR/client.key" -out "$DIR/client.pem" 2>/dev/null
FP=$(openssl x509 -in "$DIR/client.pem" -noout -fingerprint -sha256 | cut -d= -f2)

rfc_name() {
  case "$1" in
    SRTP_AES128_CM_SHA1_80) echo SRTP_AES128_CM_HMAC_SHA1_80 ;;
    SRTP_AES128_CM_SHA1_32) echo SRTP_AES128_CM_HMAC_SHA1_32 ;;
    *) echo "$1" ;;
  esac
}

run_case() {
  local cipher=$1 profiles=$2 len=$3 port=$4
  local S=$DIR/s_$port.out C=$DIR/c_$port.out
  timeout 20 "$BIN" "127.0.0.1:$port" --fingerprint "$FP" --idle-exit 6 >"$S" 2>"$DIR/s_$port.err" &
  local sp=$!
  PIDS+=("$sp")
  sleep 0.5
  (echo "hello-from-openssl"; sleep 2) | timeout 15 openssl s_client -dtls1_2 -connect "127.0.0.1:$port" \
    -cert "$DIR/client.pem" -key "$DIR/client.key" -cipher "$cipher" -use_srtp "$profiles" \
    -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen "$len" -mtu 1200 >"$C" 2>&1 || true
  wait "$sp" || fail "our server exited non-zero ($cipher): $(tail -3 "$DIR/s_$port.err" | tr '\n' ' ')"
  local ks kc ps pc
  kc=$(grep -m1 "Keying material:" "$C" | awk '{print $NF}' | tr 'A-F' 'a-f')
  ks=$(grep -m1 "^keying_material=" "$S" | cut -d= -f2)
  pc=$(grep -m1 "SRTP Extension negotiated, profile=" "$C" | sed 's/.*profile=//')
  ps=$(grep -m1 "^profile=" "$S" | cut -d= -f2)
  [ -n "$kc" ] || fail "openssl printed no keying material ($cipher)"
  [ "${#ks}" -eq $((2 * len)) ] || fail "our keying material has ${#ks} hex digits, want $((2 * len))"
  [ "$ks" = "$kc" ] || fail "keying material differs ($cipher): openssl=$kc ours=$ks"
  [ "$(rfc_name "$pc")" = "$ps" ] || fail "profile differs: openssl=$pc ours=$ps"
  grep -q "^received=hello-from-openssl" "$S" || fail "we did not receive openssl's application data"
  [ "$(grep -c "hello-from-openssl" "$C")" -ge 1 ] || fail "openssl did not get the echo"
  echo "ok $cipher $ps ${len}B" >&2
}

run_case ECDHE-ECDSA-AES128-GCM-SHA256 SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80 56 4445
run_case ECDHE-ECDSA-AES256-GCM-SHA384 SRTP_AES128_CM_SHA1_32 60 4447
echo "PASS $NAME"
