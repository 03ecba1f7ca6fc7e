#!/usr/bin/env bash
# sansrtc PeerConnection (peer/examples/dc_peer.rs, a real UDP socket) against headless
# Chromium over the HTTP signaling of interop/py/chromium_peer.py, data channel echo:
# 1. we offer (Chromium answers setup:active, so Chromium is the DTLS client and sends its
#    fragmented DTLS 1.3-capable ClientHello), open channel "echo", 1000 mixed messages;
# 2. Chromium offers (mode echo), we answer (we are the DTLS client), Chromium's "echo"
#    channel opens on our side, 1000 mixed messages.
# Every echo must come back byte-identical, same type, in order; Chromium's /stats must
# count the messages it received.
set -euo pipefail
CASE=peer_chromium_datachannel
source interop/lib.sh
source interop/peer_dc_echo.sh
dc_echo_both_roles Chromium interop/py/chromium_peer.py 8701
pass
