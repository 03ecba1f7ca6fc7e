#!/usr/bin/env python3
"""aioice (PyPI) against sansrtc's ICE agent (ice/examples/ice_udp.rs) over loopback UDP.

Usage: ice_aioice_peer.py BIN controlling|controlled   (the role of OUR agent)
Candidates and credentials are exchanged over the example's stdin/stdout. Exits 0 when ICE
completed on both sides and a ping/pong crossed the selected pair.
"""
import asyncio
import sys

import aioice
import aioice.ice
from aioice import Candidate, Connection

# aioice skips loopback addresses when gathering; offer 127.0.0.1 only (as aiortc_peer.py does).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: (["127.0.0.1"] if use_ipv4 else [])


async def main(binary: str, our_role: str) -> int:
    conn = Connection(ice_controlling=(our_role == "controlled"), components=1, use_ipv6=False)
    await conn.gather_candidates()
    proc = await asyncio.create_subprocess_exec(
        binary, "--role", our_role, "--timeout", "25",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    lines = [f"ufrag {conn.local_username}", f"pwd {conn.local_password}"]
    lines += ["candidate:" + c.to_sdp() for c in conn.local_candidates]
    lines.append("end")
    proc.stdin.write(("\n".join(lines) + "\n").encode())
    await proc.stdin.drain()

    ufrag = pwd = None
    remote = []
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        if not line:
            print("sansrtc example exited early", file=sys.stderr)
            return 1
        if line.startswith("ufrag "):
            ufrag = line[6:]
        elif line.startswith("pwd "):
            pwd = line[4:]
        elif line.startswith("candidate"):
            remote.append(line)
        elif line == "end":
            break
    conn.remote_username, conn.remote_password = ufrag, pwd
    for c in remote:
        await conn.add_remote_candidate(Candidate.from_sdp(c.split(":", 1)[1]))
    await conn.add_remote_candidate(None)

    await asyncio.wait_for(conn.connect(), 15)
    print(f"aioice: connected (controlling={conn.ice_controlling})", file=sys.stderr)
    data = await asyncio.wait_for(conn.recv(), 10)
    if b"ping" not in data:
        print(f"unexpected data {data!r}", file=sys.stderr)
        return 1
    await conn.send(b"pong from aioice")

    selected = done = False
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        if not line:
            break
        print(f"sansrtc: {line}", file=sys.stderr)
        selected |= line.startswith("SELECTED ")
        done |= line == "DONE"
    rc = await asyncio.wait_for(proc.wait(), 10)
    await conn.close()
    if rc != 0 or not (selected and done):
        print(f"sansrtc example rc={rc} selected={selected} done={done}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
