#!/usr/bin/env python3
"""A program that drives a server-side sansrtc PeerConnection through the `sansrtc serve`
gateway (`/gateway`, JSON + binary WebSocket frames) and connects it to an HTTP-signaling peer
(chromium_peer.py or aiortc_peer.py, mode echo), relaying the offer/answer between the two.

    python3 gateway_relay.py --gateway ws://127.0.0.1:8090/gateway \
        --peer http://127.0.0.1:8701 --role offer --count 1000

--role offer: the gateway creates channel "echo" and the offer; the peer answers.
--role answer: the peer offers (GET /offer?mode=echo), the gateway answers; the peer's
"echo" channel opens on the gateway side.
Then `count` messages (text frames and binary frames alternating, 1 B to 64 KiB) are sent
through the gateway with at most 1 MiB unanswered; every echo must come back identical, same
type, in order, and the peer's /stats must count `count` received. Exit 0 on success.
"""
import argparse
import asyncio
import json
import struct
import sys
import time
import urllib.request

from websockets.asyncio.client import connect


def http(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read().decode())


def message(i):
    """Message i: (binary, payload) with the sizes of peer/examples/dc_peer.rs."""
    if i % 50 == 17:
        n = 16 * 1024
    elif i % 100 == 33:
        n = 64 * 1024
    else:
        n = 1 + (i * 397) % 2000
    if i % 2 == 0:
        return True, bytes((i + j * 13) & 255 for j in range(n))
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return False, "".join(alphabet[(i + j) % len(alphabet)] for j in range(n))


class Gateway:
    def __init__(self, ws):
        self.ws = ws
        self.events = []

    async def recv(self):
        m = await self.ws.recv()
        if isinstance(m, bytes):
            return ("binary", struct.unpack(">H", m[:2])[0], m[2:])
        v = json.loads(m)
        if v.get("type") == "error":
            raise RuntimeError(f"gateway error: {v}")
        return ("json", v)

    async def until(self, kind, timeout=20):
        async with asyncio.timeout(timeout):
            while True:
                m = await self.recv()
                if m[0] == "json":
                    self.events.append(m[1]["type"])
                    if m[1]["type"] == kind:
                        return m[1]

    async def command(self, **cmd):
        await self.ws.send(json.dumps(cmd))


async def run(opts):
    t0 = time.monotonic()
    async with connect(opts.gateway, max_size=4 << 20) as ws:
        gw = Gateway(ws)
        hello = await gw.until("hello")
        print(f"gateway_relay: session {hello['session']} on {hello['local']}", file=sys.stderr)
        if opts.role == "offer":
            await gw.command(type="create_channel", label="echo")
            await gw.until("ok")
            await gw.command(type="create_offer")
            offer = await gw.until("offer")
            r = await asyncio.to_thread(http, opts.peer, "POST", "/offer",
                                        {"type": "offer", "sdp": offer["sdp"], "mode": "echo"})
            await gw.command(type="set_answer", sdp=r["sdp"])
            await gw.until("ok")
        else:
            r = await asyncio.to_thread(http, opts.peer, "GET", "/offer?mode=echo")
            await gw.command(type="accept_offer", sdp=r["sdp"])
            answer = await gw.until("answer")
            await asyncio.to_thread(http, opts.peer, "POST", "/answer",
                                    {"id": r["id"], "type": "answer", "sdp": answer["sdp"]})
        peer_id = r["id"]
        opened = await gw.until("channel_open")
        if opened["label"] != "echo":
            raise RuntimeError(f"unexpected channel {opened}")
        channel = opened["channel"]
        t_open = time.monotonic()
        print(f"gateway_relay: channel {channel} open after {t_open - t0:.3f} s; events {gw.events}",
              file=sys.stderr)

        count, window = opts.count, 1 << 20
        sent = echoed = in_flight = total = 0
        async with asyncio.timeout(opts.timeout):
            while echoed < count:
                while sent < count and in_flight < window:
                    binary, data = message(sent)
                    if binary:
                        await ws.send(struct.pack(">H", channel) + data)
                    else:
                        await ws.send(json.dumps({"type": "send", "channel": channel, "text": data}))
                    in_flight += len(data)
                    sent += 1
                m = await gw.recv()
                if m[0] == "json" and m[1]["type"] != "message":
                    continue  # buffered_low and other events
                binary, want = message(echoed)
                got = (True, m[1], m[2]) if m[0] == "binary" else (False, m[1]["channel"], m[1]["text"])
                if got != (binary, channel, want):
                    raise RuntimeError(f"echo {echoed} differs: want binary={binary} {len(want)} B, "
                                       f"got binary={got[0]} {len(got[2])} B on channel {got[1]}")
                echoed += 1
                in_flight -= len(want)
                total += len(want)
        elapsed = time.monotonic() - t_open
        stats = await asyncio.to_thread(http, opts.peer, "GET", f"/stats?id={peer_id}")
        received = sum(c.get("messagesReceived", 0) for c in stats.get("datachannels", []))
        if received != count:
            raise RuntimeError(f"peer counted {received} messages, want {count}")
        print(f"gateway_relay: OK {opts.role}: {count} messages ({total} B) echoed identical in order "
              f"in {elapsed:.3f} s (connected+open after {t_open - t0:.3f} s); peer counted {received}")
        await gw.command(type="close")
        await gw.until("ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gateway", required=True, help="ws://HOST:PORT/gateway")
    ap.add_argument("--peer", required=True, help="HTTP signaling URL of the peer (chromium_peer.py, aiortc_peer.py)")
    ap.add_argument("--role", choices=["offer", "answer"], default="offer")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=60)
    opts = ap.parse_args()
    try:
        asyncio.run(run(opts))
    except Exception as e:  # noqa: BLE001
        print(f"gateway_relay: FAILED: {e!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
