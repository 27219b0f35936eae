#!/usr/bin/env python3
"""Writes tests/data/demo.pcap: the capture `netstack demo` replays when it
cannot create namespaces, and `tests/scenario/test_replay.c` feeds twice.

A Linux host 192.0.2.1 (02:00:00:00:00:01) talks to the stack at 192.0.2.2
(RFC 5737 addresses only):
  1. ARP request who-has 192.0.2.2 (the stack answers and learns the peer)
  2. ICMP echo request, plain                      (id 0x4e53, seq 1)
  3. echo request with Record Route (ping -R)      (seq 2)
  4. echo request with Timestamp, tsonly (ping -T) (seq 3)
  5. echo request with Timestamp, tsandaddr        (seq 4)
  6. a 3000-byte echo request in three fragments   (seq 5)
  7. a UDP datagram to the echo port 7
Replay with: netstack replay demo.pcap --iface tap0=192.0.2.2/24 --udp-echo 7
Pure Python (struct), so the bytes do not depend on a scapy version.
"""
import os
import struct
import sys

PEER_MAC = bytes.fromhex("020000000001")
OUR_MAC = bytes.fromhex("020000000002")
BCAST = b"\xff" * 6
PEER = bytes([192, 0, 2, 1])
US = bytes([192, 0, 2, 2])
T0 = 1767225600  # 2026-01-01T00:00:00Z


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, typ, payload):
    return dst + PEER_MAC + struct.pack("!H", typ) + payload


def ipv4(proto, payload, ident, options=b"", frag=0, mf=False, total=None):
    ihl = 5 + len(options) // 4
    flags = (0x2000 if mf else 0) | (frag // 8)
    tl = total if total is not None else ihl * 4 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tl, ident, flags, 64, proto, 0, PEER, US)
    h += options
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def echo(seq, data):
    m = struct.pack("!BBHHH", 8, 0, 0, 0x4E53, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def arp_request():
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + PEER_MAC + PEER + b"\0" * 6 + US


def udp(sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = PEER + US + struct.pack("!BBH", 0, 17, len(u))
    c = csum(pseudo + u) or 0xFFFF
    return u[:6] + struct.pack("!H", c) + u[8:]


def frames():
    pad = bytes(range(48))
    rr = bytes([7, 39, 4]) + b"\0" * 36 + b"\0"  # RR, 9 slots, then EOL
    ts_only = bytes([68, 40, 5, 0]) + b"\0" * 36  # TS flag 0: 9 timestamps
    ts_addr = bytes([68, 36, 5, 1]) + b"\0" * 32 + b"\0" * 4  # TS flag 1: 4 pairs, EOL pad
    out = [
        (0.0, eth(BCAST, 0x0806, arp_request() + b"\0" * 18)),
        (0.1, eth(OUR_MAC, 0x0800, ipv4(1, echo(1, pad), 1))),
        (0.2, eth(OUR_MAC, 0x0800, ipv4(1, echo(2, pad), 2, rr))),
        (0.3, eth(OUR_MAC, 0x0800, ipv4(1, echo(3, pad), 3, ts_only))),
        (0.4, eth(OUR_MAC, 0x0800, ipv4(1, echo(4, pad), 4, ts_addr))),
    ]
    big = echo(5, bytes(i & 0xFF for i in range(3000 - 8)))
    for k, off in enumerate(range(0, len(big), 1480)):
        part = big[off:off + 1480]
        out.append((0.5 + k * 0.001,
                    eth(OUR_MAC, 0x0800, ipv4(1, part, 5, frag=off, mf=off + 1480 < len(big)))))
    out.append((0.6, eth(OUR_MAC, 0x0800,
                         ipv4(17, udp(40000, 7, b"hello from 192.0.2.1 to the echo service"), 6))))
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "demo.pcap")
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, fr in frames():
            sec = T0 + int(t)
            usec = int(round((t - int(t)) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(fr), len(fr)) + fr)


if __name__ == "__main__":
    main()
