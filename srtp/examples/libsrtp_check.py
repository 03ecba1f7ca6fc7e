#!/usr/bin/env python3
"""Cross-check sansrtc-srtp against libsrtp (pylibsrtp) in both directions.

Usage: libsrtp_check.py PATH_TO_srtp_tool

For each of the four DTLS-SRTP profiles: SRTP across the 65535 -> 0 wraparound with
reordering, CSRCs, header extensions and padding-sized payloads; SRTCP compound packets
(libsrtp's first SRTCP index is 1, ours 0 by default); negative cases (bit flips, replays,
wrong key) refused by both. Prints one line per failure and exits non-zero if any.
"""
import os
import random
import struct
import subprocess
import sys

from pylibsrtp import Policy, Session

PROFILES = [
    ("SRTP_AES128_CM_HMAC_SHA1_80", Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 16, 14),
    ("SRTP_AES128_CM_HMAC_SHA1_32", Policy.SRTP_PROFILE_AES128_CM_SHA1_32, 16, 14),
    ("SRTP_AEAD_AES_128_GCM", Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 16, 12),
    ("SRTP_AEAD_AES_256_GCM", Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 32, 12),
]

failures = []


def fail(msg):
    failures.append(msg)
    print("  FAIL:", msg, file=sys.stderr)


class Tool:
    def __init__(self, exe, profile, key, extra=()):
        self.p = subprocess.Popen(
            [exe, profile, key.hex(), *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def call(self, cmd, pkt):
        self.p.stdin.write(f"{cmd} {pkt.hex()}\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline().strip()
        if line.startswith("OK "):
            return True, bytes.fromhex(line[3:])
        if line == "OK":
            return True, b""
        return False, line

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def rtp_packet(rng, seq, ssrc, ts):
    cc = rng.choice([0, 0, 0, 2])
    ext = rng.random() < 0.3
    b0 = 0x80 | cc | (0x10 if ext else 0)
    hdr = struct.pack("!BBHII", b0, 96 | (0x80 if rng.random() < 0.1 else 0), seq, ts, ssrc)
    hdr += b"".join(struct.pack("!I", 0x1000 + i) for i in range(cc))
    if ext:
        hdr += bytes([0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00])
    payload = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 15, 16, 17, 160, 1200])))
    return hdr + payload


def rtcp_packet(rng, ssrc):
    # SR without report blocks + SDES CNAME, as a compound packet.
    sr = struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, rng.getrandbits(32), rng.getrandbits(32),
                     rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32))
    cname = b"user@host"
    item = bytes([1, len(cname)]) + cname + b"\x00"
    item += b"\x00" * ((-len(item)) % 4)
    sdes = struct.pack("!BBHI", 0x81, 202, (4 + len(item)) // 4, ssrc) + item
    return sr + sdes


def local_shuffle(rng, items, span=8):
    """Reorders within a small window; keeps the first item first (it anchors the ROC)."""
    items = list(items)
    for i in range(1, len(items)):
        j = min(len(items) - 1, i + rng.randrange(span))
        if rng.random() < 0.3:
            items[i], items[j] = items[j], items[i]
    return items


def flip(pkt, rng):
    b = bytearray(pkt)
    i = rng.randrange(len(b) * 8)
    b[i // 8] ^= 1 << (i % 8)
    return bytes(b)


def check_profile(exe, name, lib_profile, klen, slen, rng):
    key = os.urandom(klen + slen)
    ssrc = rng.getrandbits(32)
    start = 65536 - 150
    seqs = [(start + i) & 0xFFFF for i in range(300)]  # crosses 65535 -> 0 once

    def lib_session(inbound):
        pol = Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND if inbound else Policy.SSRC_ANY_OUTBOUND,
                     srtp_profile=lib_profile)
        pol.window_size = 1024
        return Session(policy=pol)

    # 1. libsrtp protects, sansrtc unprotects (reordered), across the wrap.
    lib_tx = lib_session(False)
    ours = Tool(exe, name, key, ["--window", "1024"])
    sent = []
    for k, seq in enumerate(seqs):
        plain = rtp_packet(rng, seq, ssrc, 1000 + 160 * k)
        sent.append((plain, lib_tx.protect(plain)))
    ok = 0
    for plain, prot in local_shuffle(rng, sent):
        good, out = ours.call("unprotect-rtp", prot)
        if not good or out != plain:
            fail(f"{name}: libsrtp->sansrtc seq {struct.unpack('!H', plain[2:4])[0]}: {out}")
        else:
            ok += 1
    # replays and bit flips refused
    for plain, prot in rng.sample(sent, 10):
        good, out = ours.call("unprotect-rtp", prot)
        if good:
            fail(f"{name}: sansrtc accepted a replay")
    for plain, prot in rng.sample(sent, 20):
        good, out = ours.call("unprotect-rtp", flip(prot, rng))
        if good:
            fail(f"{name}: sansrtc accepted a packet with a flipped bit")
    print(f"  {name}: libsrtp->sansrtc SRTP {ok}/{len(sent)} across ROC wrap, replays+flips refused",
          file=sys.stderr)

    # SRTCP libsrtp -> sansrtc (libsrtp starts at index 1)
    rtcp_sent = [(p, lib_tx.protect_rtcp(p)) for p in (rtcp_packet(rng, ssrc) for _ in range(20))]
    for plain, prot in local_shuffle(rng, rtcp_sent):
        good, out = ours.call("unprotect-rtcp", prot)
        if not good or out != plain:
            fail(f"{name}: libsrtp->sansrtc SRTCP: {out}")
    for plain, prot in rtcp_sent[:3]:
        if ours.call("unprotect-rtcp", prot)[0]:
            fail(f"{name}: sansrtc accepted a replayed SRTCP packet")
        if ours.call("unprotect-rtcp", flip(prot, rng))[0]:
            fail(f"{name}: sansrtc accepted a flipped SRTCP packet")
    ours.close()

    # 2. sansrtc protects, libsrtp unprotects (reordered), across the wrap.
    ours = Tool(exe, name, key)
    lib_rx = lib_session(True)
    sent = []
    for k, seq in enumerate(seqs):
        plain = rtp_packet(rng, seq, ssrc, 1000 + 160 * k)
        good, prot = ours.call("protect-rtp", plain)
        if not good:
            fail(f"{name}: sansrtc protect failed: {prot}")
            continue
        sent.append((plain, prot))
    ok = 0
    for plain, prot in local_shuffle(rng, sent):
        try:
            out = lib_rx.unprotect(prot)
        except Exception as e:  # noqa: BLE001
            fail(f"{name}: sansrtc->libsrtp seq {struct.unpack('!H', plain[2:4])[0]}: {e}")
            continue
        if out != plain:
            fail(f"{name}: sansrtc->libsrtp plaintext differs")
        else:
            ok += 1
    for plain, prot in rng.sample(sent, 5):
        try:
            lib_rx.unprotect(flip(prot, rng))
            fail(f"{name}: libsrtp accepted our packet with a flipped bit (sanity)")
        except Exception:  # noqa: BLE001
            pass
    print(f"  {name}: sansrtc->libsrtp SRTP {ok}/{len(sent)} across ROC wrap", file=sys.stderr)

    # SRTCP sansrtc -> libsrtp (our first index is 0)
    for _ in range(20):
        plain = rtcp_packet(rng, ssrc)
        good, prot = ours.call("protect-rtcp", plain)
        try:
            out = lib_rx.unprotect_rtcp(prot)
            if out != plain:
                fail(f"{name}: sansrtc->libsrtp SRTCP plaintext differs")
        except Exception as e:  # noqa: BLE001
            fail(f"{name}: sansrtc->libsrtp SRTCP: {e}")
    ours.close()

    # 3. Wrong key: refused.
    other = bytearray(key)
    other[0] ^= 1
    wrong = Tool(exe, name, bytes(other))
    if wrong.call("unprotect-rtp", sent[0][1])[0]:
        fail(f"{name}: accepted with a wrong key")
    wrong.close()


def main():
    exe = sys.argv[1]
    rng = random.Random(int(os.environ.get("SEED", "5")))
    for name, lib_profile, klen, slen in PROFILES:
        check_profile(exe, name, lib_profile, klen, slen, rng)
    if failures:
        print(f"{len(failures)} failures; first: {failures[0]}")
        sys.exit(1)
    print("all profiles interoperate")


if __name__ == "__main__":
    main()
