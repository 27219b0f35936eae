/*
 * Shared by the ARP and Ethernet suites: a stack with one Ethernet NIC over
 * the in-memory frame device, frame builders and field-by-field checks.
 * Included by test_arp*.c and test_eth*.c only (static helpers).
 */
#ifndef NS_TEST_ARP_ENV_H
#define NS_TEST_ARP_ENV_H

#include <string.h>

#include "ns_test.h"
#include <netstack/arp.h>
#include <netstack/eth.h>
#include <netstack/ipv4.h>
#include <netstack/udp.h>
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define OUR_IP   NS_IP4(192, 0, 2, 1)
#define PEER_IP  NS_IP4(192, 0, 2, 2)
#define OTHER_IP NS_IP4(192, 0, 2, 3)
#define SEC      1000000000LL

static const uint8_t OUR_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t ALT_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t BCAST_MAC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO_MAC[6] = { 0 };

static const struct ns_module *const arp_mods[] = { &ns_module_ipv4, &ns_module_arp, &ns_module_udp,
                                                    NULL };

struct arp_env {
        struct ns_test_env t;
        struct ns_frame_channel *fc;
        struct ns_eth *eth;
        struct ns_stats before;
};

/* Stack with NIC 1 = Ethernet (MTU 1500) at OUR_IP/24; the GARP is drained. */
static inline void arp_env_init(struct arp_env *e)
{
        memset(e, 0, sizeof(*e));
        ns_test_env_init(&e->t, arp_mods);
        e->fc = ns_frame_channel_create(NULL, 1500, 0);
        assert_non_null(e->fc);
        e->eth = ns_eth_create(NULL, ns_frame_channel_dev(e->fc), OUR_MAC);
        assert_non_null(e->eth);
        assert_int_equal(ns_nic_create(e->t.s, 1, ns_eth_link(e->eth), NULL), 0);
        struct ns_ip4_prefix a = { .addr = OUR_IP, .prefix_len = 24 };
        assert_int_equal(ns_nic_add_address(e->t.s, 1, a), 0);
        ns_frame_channel_drain(e->fc);
        ns_stack_get_stats(e->t.s, &e->before);
}

/* Every packet must be back in the pool once the frames are drained. */
static inline void arp_env_destroy(struct arp_env *e)
{
        ns_frame_channel_drain(e->fc);
        ns_test_env_destroy(&e->t);
        ns_eth_destroy(e->eth);
        ns_frame_channel_destroy(e->fc);
}

static inline struct ns_stats arp_stats(struct arp_env *e)
{
        struct ns_stats st;
        ns_stack_get_stats(e->t.s, &st);
        return st;
}

/* Writes the Ethernet header; returns 14. */
static inline size_t put_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
        struct ns_eth_fields h = { .ethertype = type };
        memcpy(h.dst.b, dst, 6);
        memcpy(h.src.b, src, 6);
        return ns_eth_emit(f, NS_ETH_HDR, &h);
}

/* A whole ARP frame (60 bytes, padded) from eth_src to eth_dst. */
static inline size_t build_arp(uint8_t *f, const uint8_t eth_dst[6], const uint8_t eth_src[6],
                               uint16_t op, const uint8_t sha[6], ns_ip4 spa, const uint8_t tha[6],
                               ns_ip4 tpa)
{
        memset(f, 0, 60);
        size_t n = put_eth(f, eth_dst, eth_src, NS_ETHERTYPE_ARP);
        struct ns_arp_fields a = { .op = op, .spa = spa, .tpa = tpa };
        memcpy(a.sha.b, sha, 6);
        memcpy(a.tha.b, tha, 6);
        n += ns_arp_emit(f + n, NS_ARP_LEN, &a);
        return 60;
}

static inline void inject(struct arp_env *e, const uint8_t *f, size_t len)
{
        assert_int_equal(ns_frame_channel_inject_bytes(e->fc, f, (uint32_t)len), 0);
}

/* The peer's ARP reply to our request for PEER_IP, unicast to us. */
static inline void inject_peer_reply(struct arp_env *e, const uint8_t mac[6])
{
        uint8_t f[60];
        build_arp(f, OUR_MAC, mac, NS_ARP_OP_REPLY, mac, PEER_IP, OUR_MAC, OUR_IP);
        inject(e, f, sizeof(f));
}

/* An ICMP echo request frame from src_ip/src_mac to dst_ip/dst_mac. */
static inline size_t build_echo_frame(uint8_t *f, const uint8_t dst_mac[6],
                                      const uint8_t src_mac[6], ns_ip4 src, ns_ip4 dst,
                                      uint16_t seq)
{
        size_t n = put_eth(f, dst_mac, src_mac, NS_ETHERTYPE_IPV4);
        uint8_t *ip = f + n;
        size_t icmp = ns_icmp4_emit_echo(ip + 20, 64, NS_ICMP4_ECHO, 0x4242, seq,
                                         (const uint8_t *)"arp-test", 8);
        struct ns_ipv4_fields h = { .total_len = (uint16_t)(20 + icmp),
                                    .id = seq,
                                    .ttl = 64,
                                    .proto = NS_IPV4_PROTO_ICMP,
                                    .src = src,
                                    .dst = dst };
        assert_int_equal(ns_ipv4_emit(ip, 20, &h), 20);
        return n + 20 + icmp;
}

/* What an ARP frame we sent must hold, every field (HOSTILE 73). */
struct arp_expect {
        const uint8_t *eth_dst;
        uint16_t op;
        ns_ip4 spa;
        const uint8_t *tha;
        ns_ip4 tpa;
};

/* Reads one frame and checks it is exactly the ARP packet described; frees it. */
static inline void expect_arp_frame(struct arp_env *e, const struct arp_expect *x)
{
        struct ns_pkt *p = ns_frame_channel_read(e->fc);
        assert_non_null(p);
        const uint8_t *f = ns_pkt_data(p);
        assert_int_equal(ns_pkt_len(p), 60); /* padded to the minimum frame */
        assert_memory_equal(ns_eth_dst(f), x->eth_dst, 6);
        assert_memory_equal(ns_eth_src(f), OUR_MAC, 6);
        assert_int_equal(ns_eth_ethertype(f), NS_ETHERTYPE_ARP);
        const uint8_t *a = f + NS_ETH_HDR;
        assert_int_equal(ns_arp_htype(a), 1);
        assert_int_equal(ns_arp_ptype(a), 0x0800);
        assert_int_equal(ns_arp_hlen(a), 6);
        assert_int_equal(ns_arp_plen(a), 4);
        assert_int_equal(ns_arp_op(a), x->op);
        assert_memory_equal(ns_arp_sha(a), OUR_MAC, 6);
        assert_int_equal(ns_arp_spa(a), x->spa);
        assert_memory_equal(ns_arp_tha(a), x->tha, 6);
        assert_int_equal(ns_arp_tpa(a), x->tpa);
        for (size_t i = NS_ETH_HDR + NS_ARP_LEN; i < 60; i++)
                assert_int_equal(f[i], 0);
        ns_pkt_free(p);
}

/* Our broadcast who-has for target. */
static inline void expect_request(struct arp_env *e, ns_ip4 target)
{
        expect_arp_frame(e, &(struct arp_expect){ .eth_dst = BCAST_MAC,
                                                  .op = NS_ARP_OP_REQUEST,
                                                  .spa = OUR_IP,
                                                  .tha = ZERO_MAC,
                                                  .tpa = target });
}

/* Reads one IPv4 frame, checks its MACs, returns it (the caller frees). */
static inline struct ns_pkt *expect_ipv4_frame(struct arp_env *e, const uint8_t dst_mac[6])
{
        struct ns_pkt *p = ns_frame_channel_read(e->fc);
        assert_non_null(p);
        const uint8_t *f = ns_pkt_data(p);
        assert_true(ns_pkt_len(p) >= 60);
        assert_memory_equal(ns_eth_dst(f), dst_mac, 6);
        assert_memory_equal(ns_eth_src(f), OUR_MAC, 6);
        assert_int_equal(ns_eth_ethertype(f), NS_ETHERTYPE_IPV4);
        assert_int_equal(ns_ipv4_validate(f + NS_ETH_HDR, ns_pkt_len(p) - NS_ETH_HDR),
                         NS_IPV4_VALID);
        return p;
}

static inline enum ns_arp_state arp_state(struct arp_env *e, ns_ip4 ip)
{
        struct ns_arp_entry ent;
        if (ns_arp_lookup(e->t.s, 1, ip, &ent) != 0)
                return 0;
        return ent.state;
}

#endif
