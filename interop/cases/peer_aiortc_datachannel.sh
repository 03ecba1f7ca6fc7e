#!/usr/bin/env bash
# sansrtc PeerConnection (peer/examples/dc_peer.rs, a real UDP socket) against aiortc 1.16
# (interop/py/aiortc_peer.py, HTTP signaling), data channel echo in both offer directions:
# we offer and open "echo" (aiortc answers setup:active: aiortc is the DTLS client), then
# aiortc offers with its "echo" channel and we answer (we are the DTLS client). 1000 mixed
# messages each way must come back byte-identical, same type, in order, and aiortc's /stats
# must count them.
set -euo pipefail
CASE=peer_aiortc_datachannel
source interop/lib.sh
source interop/peer_dc_echo.sh
dc_echo_both_roles aiortc interop/py/aiortc_peer.py 8702
pass
