#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into tests/fuzz/corpus/.

Seeds are real packets of each kind the target parses (echo requests and
replies, ICMP errors quoting UDP, IGMP v1/v2/v3 queries and reports, ARP
requests, replies and gratuitous ARP, fragments in and out of order, options
RR, TS, Router Alert, source route), laid out in each target's input format
(see the comment at the top of each fuzz_*.c). Run it again after changing a
format: python3 tests/fuzz/make_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def ip4(s):
    return bytes(int(x) for x in s.split('.'))


OUR1, PEER1, OUR2, PEER2 = ip4('192.0.2.1'), ip4('192.0.2.2'), ip4('198.51.100.1'), ip4('198.51.100.2')
FAR = ip4('203.0.113.9')
GROUP = ip4('239.1.2.3')
MAC_OUR = {1: bytes([2, 0, 0, 0, 1, 1]), 2: bytes([2, 0, 0, 0, 2, 1])}
MAC_PEER = {1: bytes([2, 0, 0, 0, 1, 2]), 2: bytes([2, 0, 0, 0, 2, 2])}
BCAST = b'\xff' * 6


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ipv4(src, dst, proto, payload, ttl=64, ident=0x1234, flags=0, off=0, opts=b'', tos=0):
    opts += b'\0' * (-len(opts) % 4)
    hl = 20 + len(opts)
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | hl // 4, tos, hl + len(payload), ident,
                    (flags << 13) | (off // 8), ttl, proto, 0, src, dst) + opts
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def icmp(t, code, rest, body):
    m = struct.pack('!BBH', t, code, 0) + rest + body
    return m[:2] + struct.pack('!H', csum(m)) + m[4:]


def echo(ident=0x4242, seq=1, data=b'netstack-c fuzz seed', t=8):
    return icmp(t, 0, struct.pack('!HH', ident, seq), data)


def udp(src, dst, sport, dport, data):
    h = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
    ph = src + dst + struct.pack('!BBH', 0, 17, len(h))
    c = csum(ph + h) or 0xffff
    return h[:6] + struct.pack('!H', c) + h[8:]


def igmp(t, mr, group, extra=b''):
    m = struct.pack('!BBH4s', t, mr, 0, group) + extra
    return m[:2] + struct.pack('!H', csum(m)) + m[4:]


def eth(dst, src, etype, payload):
    f = dst + src + struct.pack('!H', etype) + payload
    return f + b'\0' * max(0, 60 - len(f))


def arp(op, sha, spa, tha, tpa):
    return struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)


RA = bytes([148, 4, 0, 0])
RR = bytes([7, 11, 4]) + b'\0' * 8 + b'\0'
TS = bytes([68, 12, 5, 0]) + b'\0' * 8
TSA = bytes([68, 20, 5, 1]) + b'\0' * 16
LSRR = bytes([131, 7, 4]) + FAR + b'\0'

# ---- transport messages ----
ECHOS = [echo(), echo(seq=2, data=bytes(range(256)) * 2), echo(t=0)]
UDP1 = udp(PEER1, OUR1, 5353, 7, b'hello, port 7')
ERRORS = [
    icmp(3, 3, b'\0' * 4, ipv4(OUR1, PEER1, 17, udp(OUR1, PEER1, 7, 5353, b'x' * 12))[:28]),
    icmp(3, 4, struct.pack('!HH', 0, 1280), ipv4(OUR1, FAR, 17, udp(OUR1, FAR, 7, 9, b'y' * 8))),
    icmp(11, 0, b'\0' * 4, ipv4(OUR1, FAR, 1, echo())[:28]),
    icmp(12, 0, bytes([20, 0, 0, 0]), ipv4(OUR1, PEER1, 17, b'', opts=RR)[:40]),
    icmp(5, 1, PEER1, ipv4(OUR1, FAR, 17, b'z' * 8)),
]
OTHER_ICMP = [icmp(13, 0, struct.pack('!HH', 1, 1), b'\0' * 12), icmp(17, 0, b'\0' * 4, b'\0' * 4),
              icmp(18, 0, b'\0' * 4, b'\xff\xff\xff\0'), icmp(8, 0, b'', b'')]
V3_QUERY = igmp(0x11, 100, b'\0' * 4, bytes([2, 125]) + struct.pack('!H', 2) + FAR + PEER1)
V3_REPORT_BODY = struct.pack('!HH', 0, 2) + struct.pack('!BBH4s', 1, 0, 1, GROUP) + FAR + \
    struct.pack('!BBH4s', 4, 1, 0, GROUP) + b'\0' * 4
V3_REPORT = struct.pack('!BBH', 0x22, 0, 0) + V3_REPORT_BODY
V3_REPORT = V3_REPORT[:2] + struct.pack('!H', csum(V3_REPORT)) + V3_REPORT[4:]
IGMPS = [igmp(0x11, 100, b'\0' * 4), igmp(0x11, 0, b'\0' * 4), igmp(0x11, 10, GROUP),
         igmp(0x16, 0, GROUP), igmp(0x17, 0, GROUP), igmp(0x12, 0, GROUP), V3_QUERY,
         igmp(0x11, 0, GROUP, bytes([0, 0, 0, 0])), V3_REPORT]


def fragments(src, dst, proto, payload, size, ident=0x777, opts=b''):
    out = []
    for off in range(0, len(payload), size):
        more = off + size < len(payload)
        out.append(ipv4(src, dst, proto, payload[off:off + size], ident=ident,
                        flags=1 if more else 0, off=off, opts=opts if off == 0 else b''))
    return out


BIG_ECHO = echo(seq=9, data=bytes(i & 0xff for i in range(3000)))
BIG_UDP = udp(PEER1, OUR1, 4000, 7, bytes(range(256)) * 8)


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def wrap_ctl(dst_sel=0, opt_words=0, off_subnet=False, df=False, raw=False):
    return bytes([(1 if raw else 0) | (dst_sel << 1) | (opt_words << 3) |
                  (0x40 if off_subnet else 0) | (0x80 if df else 0)])


def main():
    # fuzz_ipv4_header: whole IPv4 packets.
    hdrs = [ipv4(PEER1, OUR1, 1, ECHOS[0]), ipv4(PEER1, OUR1, 1, ECHOS[0], opts=RR),
            ipv4(PEER1, OUR1, 1, ECHOS[0], opts=TS), ipv4(PEER1, OUR1, 1, ECHOS[0], opts=TSA),
            ipv4(PEER1, OUR1, 2, IGMPS[0], opts=RA, ttl=1), ipv4(PEER1, FAR, 17, UDP1, opts=LSRR),
            ipv4(PEER1, OUR1, 17, UDP1, opts=bytes([1, 1, 1, 68])),
            ipv4(PEER1, OUR1, 17, UDP1, opts=bytes([7, 0, 4, 0])),
            ipv4(PEER1, OUR1, 17, UDP1, flags=1, off=65528),
            ipv4(PEER1, OUR1, 17, UDP1, opts=RR + TS + RA)]
    for i, h in enumerate(hdrs):
        write('fuzz_ipv4_header', 'seed-%02d' % i, h)
    # fuzz_icmp4: control, ttl, options, message.
    n = 0
    for m in ECHOS + ERRORS + OTHER_ICMP:
        write('fuzz_icmp4', 'seed-%02d' % n, wrap_ctl() + b'\x40' + m)
        n += 1
    write('fuzz_icmp4', 'seed-%02d' % n, wrap_ctl(opt_words=3) + b'\x40' + RR + b'\0' + ECHOS[0])
    n += 1
    write('fuzz_icmp4', 'seed-%02d' % n, wrap_ctl(opt_words=3) + b'\x40' + TS + ECHOS[0])
    n += 1
    write('fuzz_icmp4', 'seed-%02d' % n, wrap_ctl(dst_sel=1) + b'\x40' + ECHOS[0])
    n += 1
    write('fuzz_icmp4', 'seed-%02d' % n, wrap_ctl(off_subnet=True) + b'\x01' + ECHOS[0])
    # fuzz_igmp: control, ttl 1, Router Alert, message.
    for i, m in enumerate(IGMPS):
        write('fuzz_igmp', 'seed-%02d' % i, wrap_ctl(dst_sel=3, opt_words=1) + b'\x01' + RA + m)
    write('fuzz_igmp', 'seed-no-ra', wrap_ctl(dst_sel=3) + b'\x01' + IGMPS[0])
    # fuzz_arp_eth: control, frame.
    frames = [
        eth(BCAST, MAC_PEER[1], 0x0806, arp(1, MAC_PEER[1], PEER1, b'\0' * 6, OUR1)),
        eth(MAC_OUR[1], MAC_PEER[1], 0x0806, arp(2, MAC_PEER[1], PEER1, MAC_OUR[1], OUR1)),
        eth(BCAST, MAC_PEER[1], 0x0806, arp(1, MAC_PEER[1], PEER1, b'\0' * 6, PEER1)),
        eth(BCAST, MAC_PEER[1], 0x0806, arp(2, MAC_PEER[1], PEER1, BCAST, PEER1)),
        eth(MAC_OUR[1], bytes([2, 0, 0, 0, 1, 0x50]), 0x0806,
            arp(2, bytes([2, 0, 0, 0, 1, 0x50]), ip4('192.0.2.50'), MAC_OUR[1], OUR1)),
        eth(MAC_OUR[1], MAC_PEER[1], 0x0800, ipv4(PEER1, OUR1, 1, ECHOS[0])),
        eth(MAC_OUR[1], MAC_PEER[1], 0x8100, b'\0' * 46),
    ]
    for i, f in enumerate(frames):
        write('fuzz_arp_eth', 'seed-%02d' % i, bytes([2 if i == 4 else 0]) + f)
    # fuzz_reasm: limits, then (control, offset, length) records.
    def rec(key, more, step, off, length, big=False):
        return struct.pack('!BHH', key | (8 if more else 0) | (step << 4) | (0x80 if big else 0),
                           off, length)
    write('fuzz_reasm', 'in-order', b'\x03' + rec(0, 1, 0, 0, 1480) + rec(0, 1, 1, 1480, 1480) +
          rec(0, 0, 1, 2960, 100))
    write('fuzz_reasm', 'reverse', b'\x03' + rec(1, 0, 0, 2960, 100) + rec(1, 1, 0, 1480, 1480) +
          rec(1, 1, 0, 0, 1480, True))
    write('fuzz_reasm', 'overlap-dup', b'\x00' + rec(2, 1, 0, 0, 64) + rec(2, 1, 0, 0, 64) +
          rec(2, 1, 0, 32, 64) + rec(2, 0, 0, 64, 10))
    write('fuzz_reasm', 'interleaved', b'\x0f' + b''.join(
        rec(k, 1, 1, 0, 512) for k in range(8)) + b''.join(rec(k, 0, 1, 512, 17) for k in range(8)))
    write('fuzz_reasm', 'timeout', b'\x01' + rec(3, 1, 0, 0, 800) + rec(3, 0, 7, 800, 8) +
          rec(3, 1, 7, 0, 800))
    write('fuzz_reasm', 'rose', b'\x00' + rec(4, 1, 0, 0, 1480) + rec(4, 1, 0, 64000, 1480) +
          b''.join(rec(5, 1, 0, i * 8, 8) for i in range(40)))
    write('fuzz_reasm', 'ping-of-death', b'\x02' + rec(6, 0, 0, 65528, 8) + rec(6, 0, 0, 65520, 15))
    write('fuzz_reasm', 'whole', b'\x00' + rec(7, 0, 0, 0, 100))

    # fuzz_rx_path: mode, then (control, len16, bytes) records.
    def r(nic, step, data, ip=True):
        return bytes([(1 if nic == 2 else 0) | (step << 1) | (0x10 if ip else 0)]) + \
            struct.pack('!H', len(data)) + data
    seeds = {
        'echo': [r(1, 0, ipv4(PEER1, OUR1, 1, ECHOS[0]))],
        'echo-rr-ts': [r(1, 0, ipv4(PEER1, OUR1, 1, ECHOS[0], opts=RR)),
                       r(1, 1, ipv4(PEER1, OUR1, 1, ECHOS[0], opts=TSA))],
        'udp-echo': [r(1, 0, ipv4(PEER1, OUR1, 17, UDP1))],
        'udp-closed': [r(2, 0, ipv4(PEER2, OUR2, 17, udp(PEER2, OUR2, 1, 9999, b'closed')))],
        'forward': [r(1, 0, ipv4(PEER1, FAR, 17, udp(PEER1, FAR, 1, 2, b'fwd' * 100)))],
        'forward-rr': [r(2, 0, ipv4(PEER2, ip4('192.0.2.99'), 1, ECHOS[0], opts=RR))],
        'forward-ttl1': [r(1, 0, ipv4(PEER1, FAR, 1, ECHOS[0], ttl=1))],
        'forward-df': [r(2, 0, ipv4(PEER2, PEER1, 1, echo(data=b'd' * 1400), flags=2))],
        'forward-lsrr': [r(1, 0, ipv4(PEER1, FAR, 17, UDP1, opts=LSRR))],
        'frags': [r(1, 1, f) for f in fragments(PEER1, OUR1, 1, BIG_ECHO, 1000)],
        'frags-reverse': [r(1, 0, f) for f in reversed(fragments(PEER1, OUR1, 17, BIG_UDP, 512))],
        'frags-forward': [r(1, 0, f) for f in fragments(PEER1, FAR, 1, BIG_ECHO, 1480)],
        'frags-timeout': [r(1, 0, fragments(PEER1, OUR1, 1, BIG_ECHO, 1000, opts=RR)[0]),
                          r(1, 7, ipv4(PEER1, OUR1, 1, ECHOS[0]))],
        'igmp': [r(1, 0, ipv4(PEER1, ip4('224.0.0.1'), 2, IGMPS[0], ttl=1, opts=RA)),
                 r(1, 2, ipv4(PEER1, GROUP, 2, IGMPS[2], ttl=1, opts=RA)),
                 r(1, 5, ipv4(PEER1, ip4('224.0.0.1'), 2, V3_QUERY, ttl=1, opts=RA))],
        'multicast-udp': [r(1, 0, ipv4(PEER1, GROUP, 17, udp(PEER1, GROUP, 5, 7, b'mc')))],
        'icmp-errors': [r(1, 0, ipv4(PEER1, OUR1, 1, m)) for m in ERRORS],
        'arp': [r(1, 0, f, ip=False) for f in frames],
        'arp-far': [r(1, 0, ipv4(PEER1, FAR, 1, ECHOS[0])),
                    r(2, 1, eth(MAC_OUR[2], MAC_PEER[2], 0x0806,
                                arp(2, MAC_PEER[2], ip4('198.51.100.3'), MAC_OUR[2], OUR2)),
                      ip=False)],
        'bcast': [r(1, 0, ipv4(PEER1, ip4('192.0.2.255'), 1, ECHOS[0])),
                  r(1, 0, ipv4(PEER1, b'\xff' * 4, 17, udp(PEER1, b'\xff' * 4, 68, 7, b'b')))],
        'proto-unknown': [r(1, 0, ipv4(PEER1, OUR1, 4, ipv4(FAR, OUR1, 17, UDP1)))],
    }
    for name, recs in seeds.items():
        write('fuzz_rx_path', name, b'\x00' + b''.join(recs))


if __name__ == '__main__':
    main()
