/*
 * Fuzz target: the whole receive path of a two-NIC router (Ethernet, ARP,
 * IPv4 validation, options, reassembly, ICMP, IGMP, UDP, forwarding) fed
 * a sequence of frames, with timers advancing between them.
 *
 * Input: a mode byte (bit 0: leave checksums as they are; otherwise the
 * IPv4 header checksum and, for whole datagrams, the ICMP, IGMP or UDP
 * checksum are fixed up so mutations get past validation, as lwIP's
 * OSS-Fuzz harness does), then records: control (bit 0: NIC 2; bits 1-3:
 * time step before it; bit 4: the bytes are an IPv4 packet to which the
 * harness prepends an Ethernet header from the NIC's peer to our MAC,
 * otherwise they are a whole frame), a 16-bit length, and the bytes.
 *
 * The stack (harness.c): NIC 1 192.0.2.1/24, NIC 2 198.51.100.1/24,
 * static neighbours .2 on each, 203.0.113.0/24 via an unresolved
 * 198.51.100.3, forwarding on, 239.1.2.3 joined on NIC 1, a UDP echo
 * endpoint on port 7. Everything sent goes through the oracle, and the
 * pool must be empty once the timers have run out.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "wire/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = { data, size };
        uint8_t mode = fuzz_u8(&in);
        struct fuzz_env e;
        fuzz_env_init(&e, FUZZ_ENV_ETH2);
        static uint8_t frame[NS_ETH_HDR + 65536];
        for (unsigned n = 0; in.len > 0 && n < 256; n++) {
                uint8_t ctl = fuzz_u8(&in);
                size_t len;
                const uint8_t *b = fuzz_bytes(&in, fuzz_u16(&in), &len);
                uint32_t nic = (ctl & 1) ? 2 : 1;
                int64_t step = fuzz_time_step(ctl >> 1);
                if (step)
                        fuzz_env_advance(&e, step);
                size_t at = 0;
                if (ctl & 0x10) {
                        struct ns_eth_fields h = { .ethertype = NS_ETHERTYPE_IPV4 };
                        memcpy(h.dst.b, fuzz_mac_our[nic], 6);
                        memcpy(h.src.b, fuzz_mac_peer[nic], 6);
                        at = ns_eth_emit(frame, NS_ETH_HDR, &h);
                }
                memcpy(frame + at, b, len);
                len += at;
                if (!(mode & 1) && len >= NS_ETH_HDR &&
                    ns_eth_ethertype(frame) == NS_ETHERTYPE_IPV4)
                        fuzz_fix_ipv4(frame + NS_ETH_HDR, len - NS_ETH_HDR);
                fuzz_env_inject(&e, nic, frame, len);
        }
        fuzz_env_finish(&e);
        return 0;
}
