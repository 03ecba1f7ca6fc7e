#!/usr/bin/env bash
# peer_chromium_media.sh against aiortc 1.16 (aiortc_peer.py, mode media: aiortc's test
# video/audio tracks, VP8 + Opus): the same four runs and checks, except the PLI count (aiortc's
# getStats has no pliCount); aiortc's framesDecoded counts frames its decoder produced from our
# echo.
set -euo pipefail
CASE=peer_aiortc_media PEER_NAME=aiortc PEER_SCRIPT=interop/py/aiortc_peer.py PEER_PORT=8704 \
    exec bash interop/cases/peer_chromium_media.sh
