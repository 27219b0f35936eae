package main

// The shared packets, byte for byte as bench/harness.c builds them, and the
// result checks every stack's rows apply (bench_check_* in harness.c).

import "bytes"

const (
	benchPeer    uint32 = 0xc0000202 // 192.0.2.2: the remote sender
	benchUs      uint32 = 0xc0000201 // 192.0.2.1/24: NIC 1
	benchUs2     uint32 = 0xc6336401 // 198.51.100.1/24: NIC 2 (forward)
	benchFar     uint32 = 0xc6336402 // 198.51.100.2: forward's destination
	benchSport          = 40000
	benchDport          = 5000
	benchUDPLen         = 64
	benchFwdBig         = 1500 // forward-1500: IPv4 packet bytes (MTU-sized)
	benchEchoID         = 0x4e53
	benchEchoLen        = 56
	fnvInit      uint64 = 0xcbf29ce484222325
)

func inetCsum(b []byte, seed uint32) uint16 {
	sum := uint64(seed)
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if len(b)&1 == 1 {
		sum += uint64(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func put16(b []byte, v uint32) {
	b[0] = byte(v >> 8)
	b[1] = byte(v)
}

func put32(b []byte, v uint32) {
	put16(b, v>>16)
	put16(b[2:], v)
}

func ipv4Hdr(h []byte, src, dst uint32, proto byte, id uint16, frag uint16, payloadLen int) {
	h[0] = 0x45
	h[1] = 0
	put16(h[2:], uint32(20+payloadLen))
	put16(h[4:], uint32(id))
	put16(h[6:], uint32(frag))
	h[8] = 64
	h[9] = proto
	put16(h[10:], 0)
	put32(h[12:], src)
	put32(h[16:], dst)
	put16(h[10:], uint32(inetCsum(h[:20], 0)))
}

func udpDatagram(u []byte, src, dst uint32, payloadLen int) int {
	n := 8 + payloadLen
	put16(u, benchSport)
	put16(u[2:], benchDport)
	put16(u[4:], uint32(n))
	put16(u[6:], 0)
	copy(u[8:], benchData(payloadLen))
	pseudo := src>>16 + src&0xffff + dst>>16 + dst&0xffff + 17 + uint32(n)
	c := inetCsum(u[:n], pseudo)
	if c == 0 {
		c = 0xffff
	}
	put16(u[6:], uint32(c))
	return n
}

func ipv4UDP(src, dst uint32, payloadLen int) []byte {
	b := make([]byte, 28+payloadLen)
	n := udpDatagram(b[20:], src, dst, payloadLen)
	ipv4Hdr(b, src, dst, 17, 1, 0, n)
	return b
}

func icmpEcho() []byte {
	b := make([]byte, 28+benchEchoLen)
	m := b[20:]
	m[0] = 8
	put16(m[4:], benchEchoID)
	put16(m[6:], 1)
	copy(m[8:], benchData(benchEchoLen))
	put16(m[2:], uint32(inetCsum(m, 0)))
	ipv4Hdr(b, benchPeer, benchUs, 1, 1, 0, 8+benchEchoLen)
	return b
}

type order int

const (
	inOrder order = iota
	reversed
	shuffled
)

type frags struct {
	wire [][]byte
	id   uint16
}

func makeFrags(udpLen, piece int, o order) *frags {
	d := make([]byte, udpLen)
	udpDatagram(d, benchPeer, benchUs, udpLen-8)
	f := &frags{}
	for off := 0; off < udpLen; off += piece {
		pl := piece
		if udpLen-off < piece {
			pl = udpLen - off
		}
		w := make([]byte, 20+pl)
		frag := uint16(off / 8)
		if off+pl < udpLen {
			frag |= 0x2000
		}
		ipv4Hdr(w, benchPeer, benchUs, 17, 0, frag, pl)
		copy(w[20:], d[off:off+pl])
		f.wire = append(f.wire, w)
	}
	n := len(f.wire)
	x := uint64(0x2545f4914f6cdd1d)
	for i := n - 1; o != inOrder && i > 0; i-- {
		var j int
		if o == shuffled {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			j = int(x % uint64(i+1))
		} else {
			if i < n-1-i {
				break
			}
			j = n - 1 - i
		}
		f.wire[i], f.wire[j] = f.wire[j], f.wire[i]
	}
	return f
}

func (f *frags) nextID() {
	f.id++
	for _, h := range f.wire {
		put16(h[4:], uint32(f.id))
		put16(h[10:], 0)
		put16(h[10:], uint32(inetCsum(h[:20], 0)))
	}
}

func fnv(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	return h
}

func checkEchoReply(r, req []byte) uint64 {
	if len(r) != 84 || r[0] != 0x45 || inetCsum(r[:20], 0) != 0 || r[9] != 1 ||
		!bytes.Equal(r[12:16], req[16:20]) || !bytes.Equal(r[16:20], req[12:16]) {
		fail("echo reply has a bad IPv4 header")
	} else if r[20] != 0 || r[21] != 0 || inetCsum(r[20:84], 0) != 0 || !bytes.Equal(r[24:84], req[24:84]) {
		fail("echo reply has a bad ICMP message")
	}
	if len(r) < 20 {
		return fnvInit
	}
	return fnv(fnvInit, r[20:])
}

func checkForwarded(r, in []byte) uint64 {
	if len(r) != len(in) || r[8] != in[8]-1 || inetCsum(r[:20], 0) != 0 ||
		!bytes.Equal(r[:8], in[:8]) || r[9] != in[9] || !bytes.Equal(r[12:], in[12:]) {
		fail("forwarded packet differs from the input beyond TTL and checksum")
	}
	return fnv(fnvInit, r)
}

func checkTxFrags(frag [][]byte) uint64 {
	dgram := make([]byte, 65536)
	seen := make([]int, 65536/8)
	total := 0
	for i, h := range frag {
		off := (int(h[6]&0x1f)<<8 | int(h[7])) * 8
		pl := len(h) - 20
		if len(h) > 1500 || len(h) < 28 || h[0] != 0x45 || inetCsum(h[:20], 0) != 0 ||
			!bytes.Equal(h[4:6], frag[0][4:6]) || off+pl > 65000 || h[9] != 17 ||
			int(h[2])<<8|int(h[3]) != len(h) {
			fail("bad fragment %d", i)
			return 0
		}
		if h[6]&0x20 == 0 {
			total = off + pl
		}
		copy(dgram[off:], h[20:])
		for b := off / 8; b < (off+pl+7)/8; b++ {
			seen[b]++
		}
	}
	for b := 0; b < 65000/8; b++ {
		if seen[b] != 1 {
			fail("fragments do not tile the datagram at %d", b*8)
			break
		}
	}
	if total != 65000 {
		fail("fragments carry %d bytes, want 65000", total)
	}
	pseudo := benchUs>>16 + benchUs&0xffff + benchPeer>>16 + benchPeer&0xffff + 17 + 65000
	if inetCsum(dgram[:65000], pseudo) != 0 || !bytes.Equal(dgram[8:16], benchData(8)) {
		fail("bad UDP datagram")
	}
	return fnv(fnvInit, dgram[:65000])
}
