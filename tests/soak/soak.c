/*
 * Soak (issue [reliability] item 5): NS_SOAK_PACKETS (default 10 million)
 * mixed frames through ONE stack, the two-NIC router of the fuzz harness
 * (tests/fuzz/harness.c): valid echo requests with and without options,
 * UDP to the echo port and to closed ports, datagrams to forward (to a
 * static and to an unresolved neighbour), fragmented datagrams in order,
 * reversed and never completed, ICMP errors quoting our datagrams, IGMP
 * queries, ARP requests and replies, and mutated copies of all of these
 * (half with their checksums fixed up). The clock moves 100 us per frame,
 * so reassembly, ARP and IGMP timers fire all along. Every frame the stack
 * sends goes through the fuzz oracle.
 *
 * At the end the timers are run out and the pool's in-use count must be
 * zero; under ASan (`make soak` builds it there) LeakSanitizer checks the
 * rest at exit. It prints the packet rate, the peaks of the pool and of
 * reassembly memory, and the RSS after 10% of the packets and at the end
 * (growth after warm-up is what would betray a leak or unbounded state).
 *
 * Usage: soak [PACKETS] (or NS_SOAK_PACKETS); NS_SOAK_SEED picks the stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#include "ipv4/ipv4.h"
#include "ipv4/reasm.h"
#include "core/stack.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/igmp.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"
#include "wire/udp.h"

static uint64_t rng = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return rng * 2685821657736338717ull;
}

static long rss_kib(void)
{
        FILE *f = fopen("/proc/self/statm", "r");
        long pages = 0, res = 0;
        if (f) {
                if (fscanf(f, "%ld %ld", &pages, &res) != 2)
                        res = 0;
                fclose(f);
        }
        return res * 4;
}

static uint8_t frame[NS_ETH_HDR + 65536];
static uint8_t l4[65536];

/* Writes an Ethernet header from NIC nic's peer to our MAC; returns 14. */
static size_t put_eth(uint32_t nic, uint16_t type)
{
        struct ns_eth_fields h = { .ethertype = type };
        memcpy(h.dst.b, fuzz_mac_our[nic], 6);
        memcpy(h.src.b, fuzz_mac_peer[nic], 6);
        return ns_eth_emit(frame, NS_ETH_HDR, &h);
}

/* An IPv4 frame on nic around l4[0..len), as fragment [off, off+len) when frag. */
static size_t ip_frame(uint32_t nic, ns_ip4 src, ns_ip4 dst, uint8_t proto, size_t len, uint8_t ttl,
                       const uint8_t *opts, uint8_t olen, uint16_t id, uint32_t off, bool more)
{
        size_t n = put_eth(nic, NS_ETHERTYPE_IPV4);
        struct ns_ipv4_fields h = {
                .total_len = (uint16_t)(20 + olen + len),
                .id = id,
                .flags = more ? NS_IPV4_FLAG_MF : 0,
                .frag_off = (uint16_t)off,
                .ttl = ttl,
                .proto = proto,
                .src = src,
                .dst = dst,
                .options = opts,
                .options_len = olen,
        };
        size_t hl = ns_ipv4_emit(frame + n, 60, &h);
        memcpy(frame + n + hl, l4 + off, len);
        return n + hl + len;
}

static struct fuzz_env env;

static void send_frame(uint32_t nic, size_t len, bool mutate)
{
        if (mutate) {
                unsigned flips = 1 + (unsigned)(rnd() % 4);
                for (unsigned i = 0; i < flips; i++)
                        frame[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
                if (rnd() & 1 && ns_eth_ethertype(frame) == NS_ETHERTYPE_IPV4)
                        fuzz_fix_ipv4(frame + NS_ETH_HDR, len - NS_ETH_HDR);
        }
        fuzz_env_inject(&env, nic, frame, len);
}

static ns_ip4 peer_on_nic1(void)
{
        return NS_IP4(192, 0, 2, 2 + (uint32_t)(rnd() % 200));
}

/* One step of the mixed stream; returns how many frames it sent. */
static unsigned step(void)
{
        uint64_t r = rnd();
        bool mutate = (r & 0xf) == 0; /* 1 in 16 frames is mutated */
        unsigned kind = (unsigned)((r >> 4) % 12);
        uint8_t opts[40];
        uint8_t olen = 0;
        ns_ip4 src = peer_on_nic1();
        switch (kind) {
        case 0:
        case 1: { /* echo request, sometimes with RR or TS */
                size_t dlen = (size_t)(rnd() % 1400);
                for (size_t i = 0; i < dlen; i++)
                        l4[8 + i] = (uint8_t)i;
                size_t m = ns_icmp4_emit_echo(l4, sizeof(l4), NS_ICMP4_ECHO, 0x4242, (uint16_t)r,
                                              l4 + 8, dlen);
                if (kind == 1) {
                        olen = (uint8_t)((r >> 20) & 1
                                             ? ns_ipv4_opt_put_rr(opts, 40, 4)
                                             : ns_ipv4_opt_put_ts(opts, 40, NS_IPV4_OPT_TS_ADDR, 2,
                                                                  NULL));
                        olen = (uint8_t)ns_ipv4_opt_pad(opts, olen, 40);
                }
                size_t n = ip_frame(1, src, FUZZ_OUR1, NS_IPV4_PROTO_ICMP, m, 64, opts, olen,
                                    (uint16_t)r, 0, false);
                send_frame(1, n, mutate);
                return 1;
        }
        case 2:
        case 3: { /* UDP to the echo port or a closed one */
                size_t m = 8 + (size_t)(rnd() % 600);
                memset(l4 + 8, 0x61, m - 8);
                uint16_t port = kind == 2 ? FUZZ_UDP_PORT : (uint16_t)(1000 + (r >> 32) % 100);
                ns_udp_emit_datagram(l4, m, 5000, port, src, FUZZ_OUR1);
                send_frame(1, ip_frame(1, src, FUZZ_OUR1, 17, m, 64, NULL, 0, 0, 0, false), mutate);
                return 1;
        }
        case 4: { /* forward: to NIC 2's static peer, or to the unresolved far network */
                ns_ip4 dst = (r >> 40) & 1 ? FUZZ_PEER2 : FUZZ_FAR + 1 + (uint32_t)(r % 200);
                size_t m = 8 + (size_t)(rnd() % 1400);
                memset(l4 + 8, 0x62, m - 8);
                ns_udp_emit_datagram(l4, m, 5000, 6000, src, dst);
                uint8_t ttl = (uint8_t)((r >> 48) % 8 == 0 ? 1 : 64);
                send_frame(1, ip_frame(1, src, dst, 17, m, ttl, NULL, 0, 0, 0, false), mutate);
                return 1;
        }
        case 5:
        case 6: { /* a fragmented 4000-byte datagram, in order or reversed */
                size_t m = 4000;
                for (size_t i = 8; i < m; i++)
                        l4[i] = (uint8_t)(i * 3);
                ns_udp_emit_datagram(l4, m, 5000, FUZZ_UDP_PORT, src, FUZZ_OUR1);
                uint16_t id = (uint16_t)(r >> 16);
                static const uint32_t fwd[3] = { 0, 1480, 2960 }, rev[3] = { 2960, 1480, 0 };
                const uint32_t *offs = kind == 5 ? fwd : rev;
                for (int k = 0; k < 3; k++) {
                        uint32_t len = offs[k] == 2960 ? (uint32_t)m - 2960 : 1480;
                        send_frame(1,
                                   ip_frame(1, src, FUZZ_OUR1, 17, len, 64, NULL, 0, id, offs[k],
                                            offs[k] != 2960),
                                   mutate && k == 1);
                }
                return 3;
        }
        case 7: { /* a first fragment that never completes */
                memset(l4, 0x63, 1480);
                send_frame(1,
                           ip_frame(1, src, FUZZ_OUR1, 1, 1480, 64, NULL, 0, (uint16_t)r, 0, true),
                           mutate);
                return 1;
        }
        case 8: { /* an ICMP error quoting a datagram of ours */
                uint8_t q[28];
                struct ns_ipv4_fields h = {
                        .total_len = 28, .ttl = 64, .proto = 17, .src = FUZZ_OUR1, .dst = src
                };
                ns_ipv4_emit(q, sizeof(q), &h);
                ns_udp_emit_datagram(q + 20, 8, FUZZ_UDP_PORT, 5000, FUZZ_OUR1, src);
                static const uint8_t types[4][2] = { { 3, 3 }, { 3, 4 }, { 11, 0 }, { 12, 0 } };
                const uint8_t *t = types[r % 4];
                size_t m = ns_icmp4_emit_error(l4, sizeof(l4), t[0], t[1],
                                               t[1] == 4 ? ns_icmp4_rest_mtu(576) : 0, q, 28);
                send_frame(1, ip_frame(1, src, FUZZ_OUR1, 1, m, 64, NULL, 0, 0, 0, false), mutate);
                return 1;
        }
        case 9: { /* an IGMP query (v2 general or group-specific) with Router Alert */
                ns_ip4 group = (r >> 8) & 1 ? FUZZ_GROUP : 0;
                size_t m = ns_igmp_emit(l4, sizeof(l4), NS_IGMP_QUERY, (uint8_t)(r >> 16), group);
                olen = (uint8_t)ns_ipv4_opt_put_router_alert(opts, 40);
                send_frame(1,
                           ip_frame(1, src, group ? group : NS_IP4(224, 0, 0, 1), 2, m, 1, opts,
                                    olen, 0, 0, false),
                           mutate);
                return 1;
        }
        default: { /* ARP: a request for us, or a reply for the far neighbour on NIC 2 */
                uint32_t nic = kind == 10 ? 1 : 2;
                size_t n = put_eth(nic, NS_ETHERTYPE_ARP);
                struct ns_arp_fields a;
                memset(&a, 0, sizeof(a));
                memcpy(a.sha.b, fuzz_mac_peer[nic], 6);
                a.sha.b[5] = (uint8_t)(r >> 24);
                if (nic == 1) {
                        a.op = NS_ARP_OP_REQUEST;
                        a.spa = src;
                        a.tpa = FUZZ_OUR1;
                } else {
                        a.op = NS_ARP_OP_REPLY;
                        a.spa = NS_IP4(198, 51, 100, 3);
                        a.tpa = FUZZ_OUR2;
                        memcpy(a.tha.b, fuzz_mac_our[2], 6);
                }
                n += ns_arp_emit(frame + n, NS_ARP_LEN, &a);
                memset(frame + n, 0, 60 - n);
                send_frame(nic, 60, mutate);
                return 1;
        }
        }
}

int main(int argc, char **argv)
{
        uint64_t total = 10000000;
        const char *e = argc > 1 ? argv[1] : getenv("NS_SOAK_PACKETS");
        if (e && strtoull(e, NULL, 0))
                total = strtoull(e, NULL, 0);
        const char *seed = getenv("NS_SOAK_SEED");
        if (seed && strtoull(seed, NULL, 0))
                rng = strtoull(seed, NULL, 0);
        fuzz_env_init(&env, FUZZ_ENV_ETH2);
        const struct ns_reasm *reasm = ((struct ns_ipv4 *)env.s->ipv4)->reasm;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        long rss_start = rss_kib(), rss_warm = 0;
        uint64_t sent = 0, reasm_peak = 0;
        while (sent < total) {
                sent += step();
                fuzz_env_advance(&env, 100000);
                uint64_t held = ns__reasm_bytes_held(reasm);
                if (held > reasm_peak)
                        reasm_peak = held;
                if (!rss_warm && sent >= total / 10)
                        rss_warm = rss_kib();
        }
        long rss_end = rss_kib();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        struct ns_pkt_pool_stats ps;
        ns_pkt_pool_get_stats(ns_stack_pool(env.s), &ps);
        printf("soak: %llu frames in %.1f s (%.0f/s), %llu sent and checked\n",
               (unsigned long long)sent, secs, (double)sent / secs,
               (unsigned long long)env.sent_checked);
        printf("soak: ip received %llu, delivered %llu, forwarded %llu, malformed %llu, "
               "reassembled %llu, reassembly failures %llu, udp echoed %llu\n",
               (unsigned long long)st.ip.packets_received,
               (unsigned long long)st.ip.packets_delivered, (unsigned long long)st.ip.forwarded,
               (unsigned long long)st.ip.malformed_packets_received,
               (unsigned long long)st.ip.reasm_oks, (unsigned long long)st.ip.reasm_fails,
               (unsigned long long)env.udp_received);
        printf("soak: pool peak %llu bytes, reassembly peak %llu bytes\n",
               (unsigned long long)ps.peak_bytes_in_use, (unsigned long long)reasm_peak);
        printf("soak: RSS %ld KiB at start, %ld KiB after 10%%, %ld KiB at the end "
               "(growth after warm-up %+ld KiB)\n",
               rss_start, rss_warm, rss_end, rss_end - rss_warm);
        /* Aborts unless every packet is back in the pool once the timers are done. */
        fuzz_env_finish(&env);
        printf("soak: pool in use after the timers: 0 packets\n");
        return 0;
}
