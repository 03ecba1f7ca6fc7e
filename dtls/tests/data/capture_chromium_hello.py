#!/usr/bin/env python3
"""Capture Chromium's DTLS ClientHello datagrams on loopback (no tshark needed).

Run inside ../../../../shared/interop/netns.sh (a loopback-only namespace, as root), while
Chromium (chromium_peer.py) answers an offer from aiortc (interop_client.py --role offerer),
so Chromium is the DTLS client. Writes every UDP payload that is a DTLS handshake record
holding a ClientHello fragment (first byte 22, handshake type 1), as hex lines, to OUT.

    python3 capture_chromium_hello.py OUT SECONDS
"""
import socket
import struct
import sys
import time

out, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("lo", 0))
s.settimeout(0.2)
end = time.time() + seconds
seen = []
while time.time() < end:
    try:
        frame, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING:  # each loopback frame is seen twice
        continue
    ip = frame[14:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    udp = ip[ihl:]
    payload = udp[8:struct.unpack("!H", udp[4:6])[0]]
    if len(payload) > 25 and payload[0] == 22 and payload[13] == 1 and payload not in seen:
        seen.append(payload)
with open(out, "w") as f:
    for p in seen:
        f.write(p.hex() + "\n")
print(f"captured {len(seen)} ClientHello datagrams")
