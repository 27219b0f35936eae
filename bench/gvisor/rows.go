package main

// Packet rows on gVisor's netstack: a stack with IPv4 and UDP, NIC 1
// (192.0.2.1/24) and for forward NIC 2 (198.51.100.1/24) on channel links
// of MTU 1500, routes to both subnets, and a UDP endpoint bound to port 5000.
// Each injection copies the packet's bytes into a new PacketBuffer
// (bufferv2.MakeWithData), as a link copies from its device; replies are read
// from the channel and released.

import (
	"bytes"

	"gvisor.dev/gvisor/pkg/bufferv2"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

func addr(a uint32) tcpip.Address {
	return tcpip.Address([]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

// rxSink is the io.Writer UDP reads drain into: it counts, and hashes when asked.
type rxSink struct {
	hashing bool
	h       uint64
	n       uint64
}

func (s *rxSink) Write(p []byte) (int, error) {
	s.n += uint64(len(p))
	if s.hashing {
		s.h = fnv(s.h, p)
	}
	return len(p), nil
}

type gstack struct {
	s     *stack.Stack
	ch    [3]*channel.Endpoint
	ep    tcpip.Endpoint
	wq    waiter.Queue
	rx    rxSink
	ops   uint64
	reads uint64
}

func newStack(twoNICs bool) *gstack {
	g := &gstack{}
	g.s = stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{udp.NewProtocol},
	})
	addrs := []uint32{0, benchUs, benchUs2}
	var routes []tcpip.Route
	n := 1
	if twoNICs {
		n = 2
	}
	for id := 1; id <= n; id++ {
		g.ch[id] = channel.New(1024, 1500, "")
		if err := g.s.CreateNIC(tcpip.NICID(id), g.ch[id]); err != nil {
			panic(err)
		}
		pa := tcpip.AddressWithPrefix{Address: addr(addrs[id]), PrefixLen: 24}
		if err := g.s.AddProtocolAddress(tcpip.NICID(id), tcpip.ProtocolAddress{
			Protocol: ipv4.ProtocolNumber, AddressWithPrefix: pa}, stack.AddressProperties{}); err != nil {
			panic(err)
		}
		routes = append(routes, tcpip.Route{Destination: pa.Subnet(), NIC: tcpip.NICID(id)})
	}
	g.s.SetRouteTable(routes)
	if twoNICs {
		if err := g.s.SetForwardingDefaultAndAllNICs(ipv4.ProtocolNumber, true); err != nil {
			panic(err)
		}
	}
	ep, err := g.s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &g.wq)
	if err != nil {
		panic(err)
	}
	if err := ep.Bind(tcpip.FullAddress{Port: benchDport}); err != nil {
		panic(err)
	}
	g.ep = ep
	return g
}

func (g *gstack) inject(nic int, b []byte) {
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: bufferv2.MakeWithData(b)})
	g.ch[nic].InjectInbound(ipv4.ProtocolNumber, pkt)
	pkt.DecRef()
}

// drainUDP reads every datagram queued on the endpoint into the sink.
func (g *gstack) drainUDP() {
	for {
		if _, err := g.ep.Read(&g.rx, tcpip.ReadOptions{}); err != nil {
			return
		}
		g.reads++
	}
}

// readOne takes one frame from the NIC's channel; nil when none.
func (g *gstack) readOne(nic int) []byte {
	pkt := g.ch[nic].Read()
	if pkt.IsNil() {
		return nil
	}
	b := pkt.ToView().AsSlice()
	pkt.DecRef()
	return b
}

func (g *gstack) checkDelivery(run func(uint64) uint64) uint64 {
	g.rx.hashing = true
	g.rx.h = fnvInit
	before := g.reads
	run(1)
	g.rx.hashing = false
	expectCount("datagrams delivered by the op", g.reads-before, 1)
	expectCount("datagrams delivered", g.reads, g.ops)
	expectCount("udp.PacketsReceived", g.s.Stats().UDP.PacketsReceived.Value(), g.ops)
	expectCount("ip.PacketsDelivered", g.s.Stats().IP.PacketsDelivered.Value(), g.ops)
	return g.rx.h
}

func rxUDP(invalid bool) func() (func(uint64) uint64, func() uint64) {
	return func() (func(uint64) uint64, func() uint64) {
		g := newStack(false)
		pkt := ipv4UDP(benchPeer, benchUs, benchUDPLen)
		if invalid {
			pkt[10] ^= 0xff
		}
		run := func(iters uint64) uint64 {
			for i := uint64(0); i < iters; i++ {
				g.inject(1, pkt)
				g.drainUDP()
			}
			g.ops += iters
			return g.reads
		}
		check := func() uint64 {
			if !invalid {
				return g.checkDelivery(run)
			}
			run(1)
			expectCount("ip.MalformedPacketsReceived", g.s.Stats().IP.MalformedPacketsReceived.Value(), g.ops)
			expectCount("ip.PacketsReceived", g.s.Stats().IP.PacketsReceived.Value(), g.ops)
			return g.reads
		}
		return run, check
	}
}

func rxEcho() (func(uint64) uint64, func() uint64) {
	g := newStack(false)
	req := icmpEcho()
	run := func(iters uint64) uint64 {
		var acc uint64
		for i := uint64(0); i < iters; i++ {
			g.inject(1, req)
			pkt := g.ch[1].Read()
			if pkt.IsNil() {
				fail("no echo reply")
				continue
			}
			acc += uint64(pkt.Size())
			pkt.DecRef()
		}
		g.ops += iters
		return acc
	}
	check := func() uint64 {
		g.inject(1, req)
		g.ops++
		r := g.readOne(1)
		if r == nil {
			fail("no echo reply")
			return 0
		}
		st := g.s.Stats().ICMP.V4
		expectCount("icmp.V4.PacketsReceived.EchoRequest", st.PacketsReceived.EchoRequest.Value(), g.ops)
		expectCount("icmp.V4.PacketsSent.EchoReply", st.PacketsSent.EchoReply.Value(), g.ops)
		expectCount("queued replies", uint64(g.ch[1].NumQueued()), 0)
		return checkEchoReply(r, req)
	}
	return run, check
}

// forward sends a packet of 28+payloadLen bytes (benchUDPLen: the forward
// row; benchFwdBig-28: forward-1500) in on NIC 1 to benchFar, out on NIC 2.
func forward(payloadLen int) func() (func(uint64) uint64, func() uint64) {
	return func() (func(uint64) uint64, func() uint64) { return forwardRow(payloadLen) }
}

func forwardRow(payloadLen int) (func(uint64) uint64, func() uint64) {
	g := newStack(true)
	in := ipv4UDP(benchPeer, benchFar, payloadLen)
	run := func(iters uint64) uint64 {
		var acc uint64
		for i := uint64(0); i < iters; i++ {
			g.inject(1, in)
			pkt := g.ch[2].Read()
			if pkt.IsNil() {
				fail("nothing forwarded")
				continue
			}
			acc += uint64(pkt.Size())
			pkt.DecRef()
		}
		g.ops += iters
		return acc
	}
	check := func() uint64 {
		g.inject(1, in)
		g.ops++
		r := g.readOne(2)
		if r == nil {
			fail("nothing forwarded")
			return 0
		}
		expectCount("ip.PacketsReceived", g.s.Stats().IP.PacketsReceived.Value(), g.ops)
		expectCount("ip.Forwarding.Errors", g.s.Stats().IP.Forwarding.Errors.Value(), 0)
		expectCount("frames out on NIC 1", uint64(g.ch[1].NumQueued()), 0)
		expectCount("datagrams delivered", g.reads, 0)
		return checkForwarded(r, in)
	}
	return run, check
}

func reasm(udpLen, piece int, o order) func() (func(uint64) uint64, func() uint64) {
	return func() (func(uint64) uint64, func() uint64) {
		g := newStack(false)
		f := makeFrags(udpLen, piece, o)
		run := func(iters uint64) uint64 {
			for i := uint64(0); i < iters; i++ {
				f.nextID()
				for _, w := range f.wire {
					g.inject(1, w)
				}
				g.drainUDP()
			}
			g.ops += iters
			return g.rx.n
		}
		check := func() uint64 {
			h := g.checkDelivery(run)
			expectCount("ip.MalformedFragmentsReceived", g.s.Stats().IP.MalformedFragmentsReceived.Value(), 0)
			return h
		}
		return run, check
	}
}

func txFragment() (func(uint64) uint64, func() uint64) {
	g := newStack(false)
	data := benchData(65000 - 8)
	var r bytes.Reader
	to := tcpip.FullAddress{Addr: addr(benchPeer), Port: benchSport}
	send := func() {
		r.Reset(data)
		if n, err := g.ep.Write(&r, tcpip.WriteOptions{To: &to}); err != nil || n != int64(len(data)) {
			fail("Write: %v (%d bytes)", err, n)
		}
	}
	run := func(iters uint64) uint64 {
		var n uint64
		for i := uint64(0); i < iters; i++ {
			send()
			n += uint64(g.ch[1].Drain())
		}
		g.ops += iters
		if n != iters*44 {
			fail("%d fragments for %d datagrams", n, iters)
		}
		return n
	}
	check := func() uint64 {
		send()
		g.ops++
		var fr [][]byte
		for b := g.readOne(1); b != nil; b = g.readOne(1) {
			fr = append(fr, b)
		}
		expectCount("fragments", uint64(len(fr)), 44)
		expectCount("udp.PacketsSent", g.s.Stats().UDP.PacketsSent.Value(), g.ops)
		return checkTxFrags(fr)
	}
	return run, check
}
