"""Checks a STUN server with aioice's independent STUN codec (PyPI aioice), over UDP and TCP.

Usage: python3 stun_aioice_client.py HOST PORT
Exits non-zero with a reason on the first failed check. Every wait is bounded.
"""
import os
import random
import socket
import struct
import sys
import time

from aioice import stun

HOST, PORT = sys.argv[1], int(sys.argv[2])


def check(cond, what):
    if not cond:
        print(f"check failed: {what}")
        sys.exit(1)


def binding_request(ice=False):
    req = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    if ice:
        req.attributes["USERNAME"] = "remoteufrag:localufrag"
        req.attributes["PRIORITY"] = 1853824767
        req.attributes["ICE-CONTROLLING"] = random.getrandbits(64)
        req.attributes["USE-CANDIDATE"] = None
        req.add_message_integrity(b"0123456789abcdefghijklmn")
    req.add_fingerprint()
    return req


def check_success(req, data, local, transport):
    resp = stun.parse_message(data)  # raises if FINGERPRINT is present and wrong
    check(resp.transaction_id == req.transaction_id, f"{transport}: transaction id echoed")
    check(resp.message_method == stun.Method.BINDING, f"{transport}: Binding method")
    check(resp.message_class == stun.Class.RESPONSE, f"{transport}: success class, got {resp.message_class}")
    mapped = resp.attributes.get("XOR-MAPPED-ADDRESS")
    check(mapped == (local[0], local[1]), f"{transport}: XOR-MAPPED-ADDRESS {mapped} == our address {local}")
    check("FINGERPRINT" in resp.attributes, f"{transport}: response carries FINGERPRINT")
    return resp


def udp_query(sock, req, timeout=1.0):
    sock.sendto(bytes(req), (HOST, PORT))
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            data, _ = sock.recvfrom(2048)
        except socket.timeout:
            break
        if data[8:20] == req.transaction_id:
            return data
    return None


def raw_request_with(attr_type, value=b""):
    """A Binding request carrying one attribute aioice cannot encode (raw bytes)."""
    tid = os.urandom(12)
    pad = (4 - len(value) % 4) % 4
    body = struct.pack("!HH", attr_type, len(value)) + value + b"\0" * pad
    return tid, struct.pack("!HHI12s", 0x0001, len(body), 0x2112A442, tid) + body


def main():
    # UDP: plain and ICE-style requests.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((HOST, 0))
    local = u.getsockname()
    for ice in (False, True):
        req = binding_request(ice)
        data = udp_query(u, req)
        check(data is not None, f"udp: answer to {'ICE' if ice else 'plain'} Binding request")
        resp = check_success(req, data, local, "udp")
    print("udp ok: XOR-MAPPED-ADDRESS", resp.attributes["XOR-MAPPED-ADDRESS"], "SOFTWARE", resp.attributes.get("SOFTWARE"))

    # 420 Unknown Attribute for an unknown comprehension-required attribute (RFC 8489 14).
    tid, raw = raw_request_with(0x7F31, b"abcd")
    u.sendto(raw, (HOST, PORT))
    u.settimeout(1.0)
    data, _ = u.recvfrom(2048)
    resp = stun.parse_message(data)
    check(resp.transaction_id == tid, "420: transaction id")
    check(resp.message_class == stun.Class.ERROR, "420: error class")
    check(resp.attributes.get("ERROR-CODE", (0,))[0] == 420, f"420: ERROR-CODE {resp.attributes.get('ERROR-CODE')}")
    check(struct.pack("!HH", 0x000A, 2) + struct.pack("!H", 0x7F31) in data, "420: UNKNOWN-ATTRIBUTES lists 0x7F31")
    print("udp 420 ok")

    # Garbage flood: random bytes, truncated headers, STUN-looking headers with lying lengths.
    rnd = random.Random(7)
    kinds = [
        lambda: bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 200))),
        lambda: bytes(binding_request())[: rnd.randrange(0, 28)],
        lambda: struct.pack("!HHI12s", 0x0001, rnd.randrange(0, 65536), 0x2112A442, os.urandom(12)),
        lambda: bytes(binding_request())[:20] + os.urandom(rnd.randrange(1, 64)),
        lambda: b"\x00\x01" + os.urandom(rnd.randrange(0, 100)),
    ]
    flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(20000):
        flood.sendto(kinds[i % len(kinds)](), (HOST, PORT))
    # Drain whatever the flood provoked (400s), then the server must still answer at once.
    flood.close()
    # The flood can fill the kernel's receive buffer, so the request is retransmitted as a
    # STUN client would (RFC 8489 6.2.1: RTO 500 ms, doubling), for at most ~7.5 s.
    req = binding_request()
    data = None
    for rto in (0.5, 1.0, 2.0, 4.0):
        data = udp_query(u, req, timeout=rto)
        if data is not None:
            break
    check(data is not None, "udp: answers after a flood of 20000 garbage datagrams")
    check_success(req, data, local, "udp after flood")
    print("udp flood ok")

    # TCP: two requests in one write, then one split across writes (RFC 8489 6.2.2 framing).
    t = socket.create_connection((HOST, PORT), timeout=2.0)
    local_t = t.getsockname()
    reqs = [binding_request(), binding_request(ice=True), binding_request()]
    t.sendall(bytes(reqs[0]) + bytes(reqs[1]))
    third = bytes(reqs[2])
    t.sendall(third[:7])
    time.sleep(0.05)
    t.sendall(third[7:])
    buf = b""
    answers = []
    deadline = time.time() + 3.0
    while len(answers) < 3 and time.time() < deadline:
        chunk = t.recv(4096)
        check(chunk, "tcp: connection stays open")
        buf += chunk
        while len(buf) >= 20:
            n = 20 + struct.unpack("!H", buf[2:4])[0]
            if len(buf) < n:
                break
            answers.append(buf[:n])
            buf = buf[n:]
    check(len(answers) == 3, f"tcp: 3 answers, got {len(answers)}")
    for req, data in zip(reqs, answers):
        check_success(req, data, local_t, "tcp")
    t.close()
    print("tcp ok")

    # A TCP connection sending garbage is closed; the server keeps serving others.
    g = socket.create_connection((HOST, PORT), timeout=2.0)
    g.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 10)
    g.settimeout(2.0)
    try:
        closed = g.recv(100) == b""
    except ConnectionResetError:
        closed = True
    check(closed, "tcp: a connection sending non-STUN bytes is closed")
    g.close()
    t = socket.create_connection((HOST, PORT), timeout=2.0)
    req = binding_request()
    t.sendall(bytes(req))
    data = t.recv(4096)
    check_success(req, data, t.getsockname(), "tcp after garbage")
    t.close()
    print("tcp garbage ok")


main()
