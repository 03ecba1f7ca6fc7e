#!/usr/bin/env bash
# Our DTLS client (dtls/examples/dtls_client.rs) against `openssl s_server -dtls1_2` with an
# ECDSA P-256 certificate, mutual authentication and -use_srtp. Checks: handshake, the
# negotiated SRTP profile, the RFC 5764 exported keying material equal on both sides, our
# fingerprint check of openssl's certificate, and application data both ways.
# Three runs: ECDSA AES-128-GCM / SRTP_AES128_CM_SHA1_80, ECDSA CHACHA20-POLY1305 /
# SRTP_AEAD_AES_256_GCM, and an RSA-2048 server with ECDHE-RSA-AES128-GCM-SHA256.
set -euo pipefail
NAME=dtls_openssl_client
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p sansrtc-dtls --example dtls_client >&2 || { echo "FAIL $NAME: cargo build failed"; exit 1; }
BIN=$TARGET/release/examples/dtls_client
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT
fail() { echo "FAIL $NAME: $*"; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
  -subj /CN=openssl-server -keyout "$DIR/server.key" -out "$DIR/server.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
  -subj /CN=openssl-rsa-server -keyout "$DIR/rsa.key" -out "$DIR/rsa.pem" 2>/dev/null

# openssl names -> RFC 5764 / 7714 names
rfc_name() {
  case "$1" in
    SRTP_AES128_CM_SHA1_80) echo SRTP_AES128_CM_HMAC_SHA1_80 ;;
    SRTP_AES128_CM_SHA1_32) echo SRTP_AES128_CM_HMAC_SHA1_32 ;;
    *) echo "$1" ;;
  esac
}

run_case() {
  local cipher=$1 profiles=$2 len=$3 port=$4 cert=${5:-server}
  local FP
  FP=$(openssl x509 -in "$DIR/$cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
  local S=$DIR/s_$port.out C=$DIR/c_$port.out
  (sleep 2; echo "hello-from-openssl"; sleep 3) | timeout 15 openssl s_server -dtls1_2 \
    -accept "127.0.0.1:$port" -naccept 1 -cert "$DIR/$cert.pem" -key "$DIR/$cert.key" -Verify 1 \
    -cipher "$cipher" -use_srtp "$profiles" \
    -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen "$len" -mtu 1200 >"$S" 2>&1 &
  local sp=$!
  PIDS+=("$sp")
  sleep 0.7
  (echo "hello-from-sansrtc"; sleep 4) | timeout 15 "$BIN" "127.0.0.1:$port" --fingerprint "$FP" \
    >"$C" 2>"$DIR/c_$port.err" || fail "client exited non-zero ($cipher): $(tail -3 "$DIR/c_$port.err" | tr '\n' ' ')"
  wait "$sp" || true
  local ks kc ps pc
  ks=$(grep -m1 "Keying material:" "$S" | awk '{print $NF}' | tr 'A-F' 'a-f')
  kc=$(grep -m1 "^keying_material=" "$C" | cut -d= -f2)
  ps=$(grep -m1 "SRTP Extension negotiated, profile=" "$S" | sed 's/.*profile=//')
  pc=$(grep -m1 "^profile=" "$C" | cut -d= -f2)
  [ -n "$ks" ] || fail "openssl printed no keying material ($cipher)"
  [ "${#kc}" -eq $((2 * len)) ] || fail "our keying material has ${#kc} hex digits, want $((2 * len))"
  [ "$ks" = "$kc" ] || fail "keying material differs ($cipher): openssl=$ks ours=$kc"
  [ "$(rfc_name "$ps")" = "$pc" ] || fail "profile differs: openssl=$ps ours=$pc"
  grep -q "hello-from-sansrtc" "$S" || fail "openssl did not receive our application data"
  grep -q "^received=hello-from-openssl" "$C" || fail "we did not receive openssl's application data"
  echo "ok $cipher $pc ${len}B" >&2
}

run_case ECDHE-ECDSA-AES128-GCM-SHA256 SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM 60 4444
run_case ECDHE-ECDSA-CHACHA20-POLY1305 SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80 88 4446
run_case ECDHE-RSA-AES128-GCM-SHA256 SRTP_AES128_CM_SHA1_80 60 4448 rsa
echo "PASS $NAME"
