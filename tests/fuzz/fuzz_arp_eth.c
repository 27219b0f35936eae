/*
 * Fuzz target: Ethernet framing and ARP (src/wire/eth.c, src/wire/arp.c,
 * src/link/eth.c, src/arp/arp.c). Input: a control byte (bit 0: deliver
 * on NIC 2; bit 1: first queue a datagram for 192.0.2.50, so a fuzzed ARP
 * reply may resolve it), then one whole Ethernet frame. The frame is
 * parsed by the codecs, then delivered to the two-NIC stack twice, 1 s
 * apart; every frame the stack sends must be a valid ARP or IPv4 frame of
 * at least 60 bytes from our MAC.
 */
#include <stdlib.h>

#include "harness.h"

#include <netstack/arp.h>
#include <netstack/udp.h>

#include "wire/arp.h"
#include "wire/eth.h"

static void wire(const uint8_t *f, size_t len)
{
        struct ns_eth_fields h;
        enum ns_eth_invalid v = ns_eth_parse(f, len, &h);
        FUZZ_CHECK(v == ns_eth_validate(f, len));
        (void)ns_eth_invalid_name(v);
        if (len < NS_ETH_HDR)
                return;
        struct ns_arp_fields a;
        enum ns_arp_invalid w = ns_arp_parse(f + NS_ETH_HDR, len - NS_ETH_HDR, &a);
        FUZZ_CHECK(w == ns_arp_validate(f + NS_ETH_HDR, len - NS_ETH_HDR));
        (void)ns_arp_invalid_name(w);
        if (w == NS_ARP_VALID) {
                uint8_t out[NS_ARP_LEN];
                struct ns_arp_fields b;
                FUZZ_CHECK(ns_arp_emit(out, sizeof(out), &a) == NS_ARP_LEN);
                FUZZ_CHECK(ns_arp_parse(out, sizeof(out), &b) == NS_ARP_VALID);
                FUZZ_CHECK(b.op == a.op && b.spa == a.spa && b.tpa == a.tpa);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = { data, size };
        uint8_t ctl = fuzz_u8(&in);
        wire(in.p, in.len);
        struct fuzz_env e;
        fuzz_env_init(&e, FUZZ_ENV_ETH2);
        if (ctl & 2) {
                (void)ns_udp_send(e.udp, NS_IP4(192, 0, 2, 50), 9, "queued", 6);
                fuzz_env_check_output(&e);
        }
        uint32_t nic = (ctl & 1) ? 2 : 1;
        fuzz_env_inject(&e, nic, in.p, in.len);
        fuzz_env_advance(&e, 1000000000LL);
        fuzz_env_inject(&e, nic, in.p, in.len);
        size_t n = ns_arp_entries(e.s, 1, NULL, 0) + ns_arp_entries(e.s, 2, NULL, 0);
        FUZZ_CHECK(n <= 2 * NS_ARP_MAX_ENTRIES);
        fuzz_env_finish(&e);
        return 0;
}
