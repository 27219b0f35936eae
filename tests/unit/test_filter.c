/* Filter hook points and built-in rules: matching, verdicts, DNAT checksums, counters. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/addr.h>
#include <netstack/checksum.h>
#include <netstack/err.h>
#include <netstack/filter.h>
#include <netstack/pkt.h>

#include "core/filter.h"
#include "wire/bytes.h"

#define PROTO_ICMP 1
#define PROTO_TCP  6
#define PROTO_UDP  17

#define SRC NS_IP4(192, 0, 2, 10)
#define DST NS_IP4(198, 51, 100, 20)
#define NAT NS_IP4(203, 0, 113, 77)

struct pkt_spec {
        ns_ip4 src, dst;
        uint8_t proto;
        uint16_t sport, dport;
        uint16_t payload_len;
        uint16_t frag;    /* flags and offset word */
        bool udp_no_csum; /* leave the UDP checksum 0 */
        uint8_t fill;     /* payload byte */
};

/*
 * Writes an IPv4 packet with a correct header checksum and, for UDP and
 * TCP, a correct transport checksum computed from scratch. Returns its length.
 */
static uint32_t build(uint8_t *b, const struct pkt_spec *s)
{
        uint32_t l4_hlen = s->proto == PROTO_TCP ? 20 : 8;
        uint32_t l4_len = l4_hlen + s->payload_len;
        uint32_t len = 20 + l4_len;
        uint8_t *l4 = b + 20;

        memset(b, 0, len);
        b[0] = 0x45;
        ns_store_be16(b + 2, (uint16_t)len);
        ns_store_be16(b + 4, 0x1234);
        ns_store_be16(b + 6, s->frag);
        b[8] = 64;
        b[9] = s->proto;
        ns_store_be32(b + 12, s->src);
        ns_store_be32(b + 16, s->dst);
        ns_store_be16(b + 10, ns_checksum(b, 20));
        ns_store_be16(l4, s->sport);
        ns_store_be16(l4 + 2, s->dport);
        memset(l4 + l4_hlen, s->fill, s->payload_len);
        if (s->proto == PROTO_UDP) {
                ns_store_be16(l4 + 4, (uint16_t)l4_len);
                if (!s->udp_no_csum) {
                        uint32_t sum =
                            ns_csum_pseudo_ip4(s->src, s->dst, PROTO_UDP, (uint16_t)l4_len);
                        uint16_t c = ns_csum_finish(ns_csum_partial(l4, l4_len, sum));
                        ns_store_be16(l4 + 6, c ? c : 0xffff);
                }
        } else if (s->proto == PROTO_TCP) {
                l4[12] = 5 << 4;
                uint32_t sum = ns_csum_pseudo_ip4(s->src, s->dst, PROTO_TCP, (uint16_t)l4_len);
                ns_store_be16(l4 + 16, ns_csum_finish(ns_csum_partial(l4, l4_len, sum)));
        }
        return len;
}

static bool ip_csum_ok(const uint8_t *b)
{
        return ns_checksum(b, (size_t)(b[0] & 0xf) * 4) == 0;
}

/* Verifies the UDP or TCP checksum of the packet from scratch. */
static bool l4_csum_ok(const uint8_t *b, uint32_t len)
{
        uint32_t hlen = (uint32_t)(b[0] & 0xf) * 4;
        uint32_t l4_len = len - hlen;
        uint32_t sum =
            ns_csum_pseudo_ip4(ns_load_be32(b + 12), ns_load_be32(b + 16), b[9], (uint16_t)l4_len);

        return ns_csum_finish(ns_csum_partial(b + hlen, l4_len, sum)) == 0;
}

static const struct ns_filter_info info_in = { NS_HOOK_PREROUTING, 2, 0, "eth0", NULL };

static enum ns_verdict check_bytes(struct ns_filter *f, enum ns_hook hook, uint8_t *b, uint32_t len,
                                   const struct ns_filter_info *info)
{
        uint32_t mark = 0;
        bool nat = false;

        return ns__filter_rules_apply(f, hook, b, len, info, &mark, &nat);
}

static void test_empty_filter_accepts_and_is_inactive(void **state)
{
        (void)state;
        struct ns_filter f;
        uint8_t b[128];
        struct pkt_spec s = { SRC, DST, PROTO_UDP, 1000, 53, 10, 0, false, 0xab };
        uint32_t len = build(b, &s);

        assert_int_equal(ns__filter_init(&f, NULL), 0);
        assert_int_equal(f.active, 0);
        for (unsigned h = 0; h < NS_HOOK_COUNT; h++)
                assert_int_equal(check_bytes(&f, (enum ns_hook)h, b, len, &info_in),
                                 NS_VERDICT_ACCEPT);
        /* The inline check never reaches the packet when nothing is set. */
        assert_int_equal(ns__filter_check(&f, NS_HOOK_INPUT, NULL, &info_in), NS_VERDICT_ACCEPT);
        ns__filter_destroy(&f);
}

static void test_accept_all_and_drop_all(void **state)
{
        (void)state;
        struct ns_filter f;
        struct ns_filter_rule r = { 0 }, got;
        uint32_t id_accept, id_drop;
        uint8_t b[128];
        struct pkt_spec s = { SRC, DST, PROTO_UDP, 1000, 53, 10, 0, false, 0xab };
        uint32_t len = build(b, &s);

        ns__filter_init(&f, NULL);
        r.action = NS_FILTER_DROP;
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_INPUT, &r, &id_drop), 0);
        assert_int_equal(f.active, 1u << NS_HOOK_INPUT);
        assert_int_equal(check_bytes(&f, NS_HOOK_INPUT, b, len, &info_in), NS_VERDICT_DROP);
        assert_int_equal(check_bytes(&f, NS_HOOK_INPUT, b, len, &info_in), NS_VERDICT_DROP);
        /* Other points are untouched. */
        assert_int_equal(check_bytes(&f, NS_HOOK_OUTPUT, b, len, &info_in), NS_VERDICT_ACCEPT);
        assert_int_equal(ns__filter_get_rule(&f, id_drop, &got), 0);
        assert_int_equal(got.packets, 2);
        assert_int_equal(got.bytes, 2 * len);

        ns__filter_flush(&f, NS_HOOK_INPUT);
        assert_int_equal(f.active, 0);
        r.action = NS_FILTER_ACCEPT;
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_INPUT, &r, &id_accept), 0);
        r.action = NS_FILTER_DROP;
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_INPUT, &r, &id_drop), 0);
        assert_int_not_equal(id_accept, id_drop);
        /* First match wins: the accept-all shadows the drop-all. */
        assert_int_equal(check_bytes(&f, NS_HOOK_INPUT, b, len, &info_in), NS_VERDICT_ACCEPT);
        assert_int_equal(ns__filter_get_rule(&f, id_accept, &got), 0);
        assert_int_equal(got.packets, 1);
        assert_int_equal(ns__filter_get_rule(&f, id_drop, &got), 0);
        assert_int_equal(got.packets, 0);
        /* Deleting the accept exposes the drop. */
        assert_int_equal(ns__filter_del_rule(&f, id_accept), 0);
        assert_int_equal(ns__filter_del_rule(&f, id_accept), NS_ERR_NOT_FOUND);
        assert_int_equal(check_bytes(&f, NS_HOOK_INPUT, b, len, &info_in), NS_VERDICT_DROP);
        assert_int_equal(ns__filter_del_rule(&f, id_drop), 0);
        assert_int_equal(f.active, 0);
        ns__filter_destroy(&f);
}

struct match_row {
        const char *name;
        struct ns_filter_rule rule;
        struct pkt_spec pkt;
        struct ns_filter_info info;
        enum ns_verdict want;
};

static void test_drop_some(void **state)
{
        (void)state;
        const struct ns_filter_info in2 = { NS_HOOK_FORWARD, 2, 3, "eth0", "eth1" };
        const struct ns_filter_info in4 = { NS_HOOK_FORWARD, 4, 5, "eth2", "eth3" };
        const struct pkt_spec udp = { SRC, DST, PROTO_UDP, 1000, 53, 4, 0, false, 1 };
        const struct pkt_spec tcp = { SRC, DST, PROTO_TCP, 1000, 80, 4, 0, false, 1 };
        const struct pkt_spec other_src = {
                NS_IP4(192, 0, 3, 10), DST, PROTO_UDP, 1, 2, 4, 0, false, 1
        };
        const struct match_row rows[] = {
                { "src /24 matches",
                  { .src = { NS_IP4(192, 0, 2, 0), 24 }, .action = NS_FILTER_DROP },
                  udp,
                  in2,
                  NS_VERDICT_DROP },
                { "src /24 misses",
                  { .src = { NS_IP4(192, 0, 2, 0), 24 }, .action = NS_FILTER_DROP },
                  other_src,
                  in2,
                  NS_VERDICT_ACCEPT },
                { "src /23 covers both",
                  { .src = { NS_IP4(192, 0, 2, 0), 23 }, .action = NS_FILTER_DROP },
                  other_src,
                  in2,
                  NS_VERDICT_DROP },
                { "src host bits ignored",
                  { .src = { NS_IP4(192, 0, 2, 99), 24 }, .action = NS_FILTER_DROP },
                  udp,
                  in2,
                  NS_VERDICT_DROP },
                { "dst /32 matches",
                  { .dst = { DST, 32 }, .action = NS_FILTER_DROP },
                  udp,
                  in2,
                  NS_VERDICT_DROP },
                { "dst /32 misses",
                  { .dst = { DST + 1, 32 }, .action = NS_FILTER_DROP },
                  udp,
                  in2,
                  NS_VERDICT_ACCEPT },
                { "proto udp matches udp",
                  { .protocol = PROTO_UDP, .action = NS_FILTER_DROP },
                  udp,
                  in2,
                  NS_VERDICT_DROP },
                { "proto udp misses tcp",
                  { .protocol = PROTO_UDP, .action = NS_FILTER_DROP },
                  tcp,
                  in2,
                  NS_VERDICT_ACCEPT },
                { "in nic matches",
                  { .in_nic = 2, .action = NS_FILTER_DROP },
                  udp,
                  in2,
                  NS_VERDICT_DROP },
                { "in nic misses",
                  { .in_nic = 2, .action = NS_FILTER_DROP },
                  udp,
                  in4,
                  NS_VERDICT_ACCEPT },
                { "out nic matches",
                  { .out_nic = 5, .action = NS_FILTER_DROP },
                  udp,
                  in4,
                  NS_VERDICT_DROP },
                { "out nic misses",
                  { .out_nic = 5, .action = NS_FILTER_DROP },
                  udp,
                  in2,
                  NS_VERDICT_ACCEPT },
                { "all fields match",
                  { .src = { SRC, 32 },
                    .dst = { DST, 32 },
                    .protocol = PROTO_TCP,
                    .in_nic = 4,
                    .out_nic = 5,
                    .action = NS_FILTER_DROP },
                  tcp,
                  in4,
                  NS_VERDICT_DROP },
                { "one field of many misses",
                  { .src = { SRC, 32 },
                    .dst = { DST, 32 },
                    .protocol = PROTO_TCP,
                    .in_nic = 4,
                    .out_nic = 3,
                    .action = NS_FILTER_DROP },
                  tcp,
                  in4,
                  NS_VERDICT_ACCEPT },
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct ns_filter f;
                struct ns_filter_rule got;
                uint8_t b[128];
                uint32_t id, len = build(b, &rows[i].pkt);

                ns__filter_init(&f, NULL);
                assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_FORWARD, &rows[i].rule, &id), 0);
                if (check_bytes(&f, NS_HOOK_FORWARD, b, len, &rows[i].info) != rows[i].want)
                        fail_msg("row \"%s\": wrong verdict", rows[i].name);
                ns__filter_get_rule(&f, id, &got);
                assert_int_equal(got.packets, rows[i].want == NS_VERDICT_DROP ? 1 : 0);
                ns__filter_destroy(&f);
        }
}

static void test_unparseable_bytes_match_nothing(void **state)
{
        (void)state;
        struct ns_filter f;
        struct ns_filter_rule r = { .action = NS_FILTER_DROP }, got;
        uint8_t b[128];
        struct pkt_spec s = { SRC, DST, PROTO_UDP, 1, 2, 4, 0, false, 1 };
        uint32_t id, len = build(b, &s);

        ns__filter_init(&f, NULL);
        ns__filter_add_rule(&f, NS_HOOK_PREROUTING, &r, &id);
        assert_int_equal(check_bytes(&f, NS_HOOK_PREROUTING, b, 19, &info_in), NS_VERDICT_ACCEPT);
        b[0] = 0x65; /* version 6 */
        assert_int_equal(check_bytes(&f, NS_HOOK_PREROUTING, b, len, &info_in), NS_VERDICT_ACCEPT);
        b[0] = 0x44; /* IHL 4 */
        assert_int_equal(check_bytes(&f, NS_HOOK_PREROUTING, b, len, &info_in), NS_VERDICT_ACCEPT);
        b[0] = 0x4f; /* IHL 15 = 60 bytes, beyond 40 */
        assert_int_equal(check_bytes(&f, NS_HOOK_PREROUTING, b, 40, &info_in), NS_VERDICT_ACCEPT);
        ns__filter_get_rule(&f, id, &got);
        assert_int_equal(got.packets, 0);
        b[0] = 0x45;
        assert_int_equal(check_bytes(&f, NS_HOOK_PREROUTING, b, len, &info_in), NS_VERDICT_DROP);
        ns__filter_destroy(&f);
}

static void test_dnat_udp_rewrites_and_checksums_verify(void **state)
{
        (void)state;
        struct ns_filter f;
        struct ns_filter_rule r = { .dst = { DST, 32 },
                                    .protocol = PROTO_UDP,
                                    .action = NS_FILTER_DNAT,
                                    .nat_addr = NAT,
                                    .nat_port = 5353,
                                    .set_mark = true,
                                    .mark = 0xbeef };
        struct ns_filter_rule got;
        uint8_t b[256];
        struct pkt_spec s = { SRC, DST, PROTO_UDP, 40000, 53, 33, 0, false, 0x5a };
        uint32_t id, mark = 0, len = build(b, &s);
        bool nat = false;

        ns__filter_init(&f, NULL);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_PREROUTING, &r, &id), 0);
        assert_true(ip_csum_ok(b) && l4_csum_ok(b, len));
        assert_int_equal(
            ns__filter_rules_apply(&f, NS_HOOK_PREROUTING, b, len, &info_in, &mark, &nat),
            NS_VERDICT_ACCEPT);
        assert_true(nat);
        assert_int_equal(mark, 0xbeef);
        assert_int_equal(ns_load_be32(b + 16), NAT);
        assert_int_equal(ns_load_be32(b + 12), SRC);
        assert_int_equal(ns_load_be16(b + 20), 40000);
        assert_int_equal(ns_load_be16(b + 22), 5353);
        assert_true(ip_csum_ok(b));
        assert_true(l4_csum_ok(b, len));
        ns__filter_get_rule(&f, id, &got);
        assert_int_equal(got.packets, 1);
        assert_int_equal(got.bytes, len);

        /* Already translated: the rule no longer matches. */
        nat = false;
        assert_int_equal(
            ns__filter_rules_apply(&f, NS_HOOK_PREROUTING, b, len, &info_in, &mark, &nat),
            NS_VERDICT_ACCEPT);
        assert_false(nat);
        ns__filter_destroy(&f);
}

static void test_dnat_udp_zero_checksum_stays_zero(void **state)
{
        (void)state;
        struct ns_filter f;
        struct ns_filter_rule r = {
                .protocol = PROTO_UDP, .action = NS_FILTER_DNAT, .nat_addr = NAT, .nat_port = 9
        };
        uint8_t b[256];
        struct pkt_spec s = { SRC, DST, PROTO_UDP, 40000, 53, 12, 0, true, 0x11 };
        uint32_t len = build(b, &s);

        ns__filter_init(&f, NULL);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_OUTPUT, &r, NULL), 0);
        assert_int_equal(check_bytes(&f, NS_HOOK_OUTPUT, b, len, &info_in), NS_VERDICT_ACCEPT);
        assert_int_equal(ns_load_be16(b + 26), 0);
        assert_int_equal(ns_load_be16(b + 22), 9);
        assert_int_equal(ns_load_be32(b + 16), NAT);
        assert_true(ip_csum_ok(b));
        ns__filter_destroy(&f);
}

/* Recomputes the UDP checksum field of a built packet from scratch (0 sent as 0xffff). */
static void udp_fix_csum(uint8_t *b, uint32_t len)
{
        uint32_t sum;
        uint16_t c;

        ns_store_be16(b + 26, 0);
        sum = ns_csum_pseudo_ip4(ns_load_be32(b + 12), ns_load_be32(b + 16), PROTO_UDP,
                                 (uint16_t)(len - 20));
        c = ns_csum_finish(ns_csum_partial(b + 20, len - 20, sum));
        ns_store_be16(b + 26, c ? c : 0xffff);
}

static void test_dnat_udp_computed_zero_becomes_all_ones(void **state)
{
        (void)state;
        struct ns_filter f;
        struct ns_filter_rule r = {
                .protocol = PROTO_UDP, .action = NS_FILTER_DNAT, .nat_addr = NAT, .nat_port = 4321
        };
        struct pkt_spec after = { SRC, NAT, PROTO_UDP, 1000, 4321, 10, 0, true, 0 };
        struct pkt_spec before = { SRC, DST, PROTO_UDP, 1000, 53, 10, 0, true, 0 };
        uint8_t b[128];
        uint32_t len = build(b, &after);
        uint16_t w;

        /* Choose the first payload word so the translated packet's sum is 0xffff. */
        w = (uint16_t)~ns_csum_partial(
            b + 20, len - 20, ns_csum_pseudo_ip4(SRC, NAT, PROTO_UDP, (uint16_t)(len - 20)));
        len = build(b, &before);
        ns_store_be16(b + 28, w);
        udp_fix_csum(b, len);
        assert_true(l4_csum_ok(b, len));

        ns__filter_init(&f, NULL);
        ns__filter_add_rule(&f, NS_HOOK_PREROUTING, &r, NULL);
        check_bytes(&f, NS_HOOK_PREROUTING, b, len, &info_in);
        assert_int_equal(ns_load_be16(b + 22), 4321);
        /* The computed checksum is zero, which UDP must send as all ones (RFC 768). */
        assert_int_equal(ns_load_be16(b + 26), 0xffff);
        assert_true(l4_csum_ok(b, len));
        ns__filter_destroy(&f);
}

static void test_dnat_tcp_and_icmp(void **state)
{
        (void)state;
        struct ns_filter f;
        struct ns_filter_rule tcp_rule = {
                .protocol = PROTO_TCP, .action = NS_FILTER_DNAT, .nat_addr = NAT, .nat_port = 8080
        };
        struct ns_filter_rule any_rule = { .action = NS_FILTER_DNAT, .nat_addr = NAT };
        uint8_t b[256], before[256];
        struct pkt_spec tcp = { SRC, DST, PROTO_TCP, 51000, 80, 17, 0, false, 0x77 };
        struct pkt_spec icmp = { SRC, DST, PROTO_ICMP, 0x0800, 0, 12, 0, false, 0x33 };
        uint32_t len;

        ns__filter_init(&f, NULL);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_PREROUTING, &tcp_rule, NULL), 0);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_PREROUTING, &any_rule, NULL), 0);

        len = build(b, &tcp);
        check_bytes(&f, NS_HOOK_PREROUTING, b, len, &info_in);
        assert_int_equal(ns_load_be32(b + 16), NAT);
        assert_int_equal(ns_load_be16(b + 22), 8080);
        assert_true(ip_csum_ok(b));
        assert_true(l4_csum_ok(b, len));

        /* ICMP has no pseudo-header: only the IPv4 header changes. */
        len = build(b, &icmp);
        memcpy(before, b, len);
        check_bytes(&f, NS_HOOK_PREROUTING, b, len, &info_in);
        assert_int_equal(ns_load_be32(b + 16), NAT);
        assert_true(ip_csum_ok(b));
        assert_memory_equal(b + 20, before + 20, len - 20);
        ns__filter_destroy(&f);
}

static void test_dnat_later_fragment_keeps_payload(void **state)
{
        (void)state;
        struct ns_filter f;
        struct ns_filter_rule r = {
                .protocol = PROTO_UDP, .action = NS_FILTER_DNAT, .nat_addr = NAT, .nat_port = 7
        };
        uint8_t b[256], before[256];
        /* Offset 185 (1480 bytes): the payload is not a UDP header. */
        struct pkt_spec s = { SRC, DST, PROTO_UDP, 1111, 2222, 24, 185, false, 0x44 };
        uint32_t len = build(b, &s);

        memcpy(before, b, len);
        ns__filter_init(&f, NULL);
        ns__filter_add_rule(&f, NS_HOOK_PREROUTING, &r, NULL);
        check_bytes(&f, NS_HOOK_PREROUTING, b, len, &info_in);
        assert_int_equal(ns_load_be32(b + 16), NAT);
        assert_true(ip_csum_ok(b));
        assert_memory_equal(b + 20, before + 20, len - 20);

        /* A truncated first fragment: address rewritten, short header left alone. */
        struct pkt_spec first = { SRC, DST, PROTO_UDP, 1111, 2222, 0, 0x2000, false, 0x44 };
        len = build(b, &first);
        memcpy(before, b, len);
        check_bytes(&f, NS_HOOK_PREROUTING, b, 26, &info_in);
        assert_int_equal(ns_load_be32(b + 16), NAT);
        assert_true(ip_csum_ok(b));
        assert_memory_equal(b + 20, before + 20, 6);
        ns__filter_destroy(&f);
}

/* Deterministic xorshift for the property test. */
static uint32_t rnd(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return (uint32_t)(*s >> 16);
}

static void test_dnat_checksums_property(void **state)
{
        (void)state;
        uint64_t seed = 0x9e3779b97f4a7c15ull;
        int nonzero_csums = 0;

        for (int i = 0; i < 3000; i++) {
                struct ns_filter f;
                uint8_t proto = (i & 1) ? PROTO_UDP : PROTO_TCP;
                struct ns_filter_rule r = { .protocol = proto,
                                            .action = NS_FILTER_DNAT,
                                            .nat_addr = rnd(&seed),
                                            .nat_port = (uint16_t)rnd(&seed) };
                struct pkt_spec s = { rnd(&seed),
                                      rnd(&seed),
                                      proto,
                                      (uint16_t)rnd(&seed),
                                      (uint16_t)rnd(&seed),
                                      (uint16_t)(rnd(&seed) % 200),
                                      0,
                                      false,
                                      (uint8_t)rnd(&seed) };
                uint8_t b[300];
                uint32_t len = build(b, &s);

                ns__filter_init(&f, NULL);
                ns__filter_add_rule(&f, NS_HOOK_OUTPUT, &r, NULL);
                check_bytes(&f, NS_HOOK_OUTPUT, b, len, &info_in);
                ns__filter_destroy(&f);
                if (!ip_csum_ok(b) || !l4_csum_ok(b, len))
                        fail_msg("iteration %d: checksum does not verify after DNAT", i);
                if (r.nat_port)
                        assert_int_equal(ns_load_be16(b + 22), r.nat_port);
                if (proto == PROTO_UDP) {
                        /* A UDP checksum that was present must not turn into "none". */
                        assert_int_not_equal(ns_load_be16(b + 26), 0);
                        nonzero_csums++;
                }
        }
        assert_int_equal(nonzero_csums, 1500);
}

static void test_rule_validation(void **state)
{
        (void)state;
        struct ns_filter f;
        struct ns_filter_rule dnat = { .action = NS_FILTER_DNAT, .nat_addr = NAT };
        struct ns_filter_rule r = { 0 };

        ns__filter_init(&f, NULL);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_INPUT, &dnat, NULL),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_FORWARD, &dnat, NULL),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_POSTROUTING, &dnat, NULL),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_PREROUTING, &dnat, NULL), 0);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_OUTPUT, &dnat, NULL), 0);
        dnat.nat_port = 80; /* a port needs UDP or TCP */
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_OUTPUT, &dnat, NULL),
                         NS_ERR_INVALID_ARGUMENT);
        dnat.protocol = PROTO_ICMP;
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_OUTPUT, &dnat, NULL),
                         NS_ERR_INVALID_ARGUMENT);
        r.src.prefix_len = 33;
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_INPUT, &r, NULL), NS_ERR_INVALID_ARGUMENT);
        r.src.prefix_len = 0;
        r.action = (enum ns_filter_action)42;
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_INPUT, &r, NULL), NS_ERR_INVALID_ARGUMENT);
        r.action = NS_FILTER_DROP;
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_COUNT, &r, NULL), NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns__filter_set_hook(&f, NS_HOOK_COUNT, NULL, NULL),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(f.active, (1u << NS_HOOK_PREROUTING) | (1u << NS_HOOK_OUTPUT));
        ns__filter_destroy(&f);
}

static void test_list_rules(void **state)
{
        (void)state;
        struct ns_filter f;
        struct ns_filter_rule r = { .action = NS_FILTER_DROP }, out[4];
        uint32_t ids[20];

        ns__filter_init(&f, NULL);
        /* Enough rules to make the list grow several times. */
        for (uint32_t i = 0; i < 20; i++) {
                r.protocol = (uint8_t)(100 + i);
                assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_POSTROUTING, &r, &ids[i]), 0);
        }
        assert_int_equal(ns__filter_list_rules(&f, NS_HOOK_POSTROUTING, NULL, 0), 20);
        assert_int_equal(ns__filter_list_rules(&f, NS_HOOK_POSTROUTING, out, 4), 20);
        for (uint32_t i = 0; i < 4; i++) {
                assert_int_equal(out[i].id, ids[i]);
                assert_int_equal(out[i].protocol, 100 + i);
        }
        assert_int_equal(ns__filter_del_rule(&f, ids[1]), 0);
        assert_int_equal(ns__filter_list_rules(&f, NS_HOOK_POSTROUTING, out, 4), 19);
        assert_int_equal(out[1].id, ids[2]);
        assert_int_equal(ns__filter_list_rules(&f, NS_HOOK_INPUT, out, 4), 0);
        assert_int_equal(ns__filter_list_rules(&f, NS_HOOK_COUNT, out, 4), 0);
        ns__filter_destroy(&f);
}

struct failing_alloc {
        int left; /* allocations to grant before refusing */
        int live;
};

static void *fa_alloc(void *ctx, size_t size)
{
        struct failing_alloc *a = ctx;

        if (a->left == 0)
                return NULL;
        a->left--;
        a->live++;
        return malloc(size);
}

static void fa_free(void *ctx, void *p)
{
        struct failing_alloc *a = ctx;

        if (p)
                a->live--;
        free(p);
}

static void test_allocation_failure_leaves_rules_intact(void **state)
{
        (void)state;
        struct failing_alloc fa = { .left = 1 };
        struct ns_allocator a = { fa_alloc, fa_free, &fa };
        struct ns_filter f;
        struct ns_filter_rule r = { .action = NS_FILTER_DROP }, out[16];
        uint32_t i;

        ns__filter_init(&f, &a);
        /* The first allocation holds 8 rules; growing to 16 is refused. */
        for (i = 0; i < 8; i++) {
                r.protocol = (uint8_t)i;
                assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_INPUT, &r, NULL), 0);
        }
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_INPUT, &r, NULL), NS_ERR_NO_MEMORY);
        assert_int_equal(ns__filter_list_rules(&f, NS_HOOK_INPUT, out, 16), 8);
        for (i = 0; i < 8; i++)
                assert_int_equal(out[i].protocol, i);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_OUTPUT, &r, NULL), NS_ERR_NO_MEMORY);
        assert_int_equal(f.active, 1u << NS_HOOK_INPUT);
        ns__filter_destroy(&f);
        assert_int_equal(fa.live, 0);
}

struct hook_probe {
        int calls;
        enum ns_verdict answer;
        const struct ns_filter_info *seen_info;
        struct ns_pkt *seen_pkt;
        uint32_t set_mark;
};

static enum ns_verdict probe(void *ctx, struct ns_pkt *pkt, const struct ns_filter_info *info)
{
        struct hook_probe *h = ctx;

        h->calls++;
        h->seen_info = info;
        h->seen_pkt = pkt;
        if (h->set_mark)
                pkt->mark = h->set_mark;
        return h->answer;
}

static void test_hook_function_and_pkt_path(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        struct ns_filter f;
        struct hook_probe h = { 0 };
        struct ns_filter_rule drop_tcp = { .protocol = PROTO_TCP, .action = NS_FILTER_DROP };
        uint8_t b[128];
        struct pkt_spec s = { SRC, DST, PROTO_UDP, 1000, 53, 10, 0, false, 0xab };
        uint32_t len = build(b, &s);
        struct ns_pkt *p;

        assert_non_null(pool);
        p = ns_pkt_from_bytes(pool, 64, b, len);
        assert_non_null(p);
        ns__filter_init(&f, NULL);

        assert_int_equal(ns__filter_set_hook(&f, NS_HOOK_INPUT, probe, &h), 0);
        assert_int_equal(f.active, 1u << NS_HOOK_INPUT);
        h.answer = NS_VERDICT_ACCEPT;
        h.set_mark = 77;
        assert_int_equal(ns__filter_check(&f, NS_HOOK_INPUT, p, &info_in), NS_VERDICT_ACCEPT);
        assert_int_equal(h.calls, 1);
        assert_ptr_equal(h.seen_pkt, p);
        assert_ptr_equal(h.seen_info, &info_in);
        assert_int_equal(p->mark, 77);
        /* Not called at other points. */
        assert_int_equal(ns__filter_check(&f, NS_HOOK_OUTPUT, p, &info_in), NS_VERDICT_ACCEPT);
        assert_int_equal(h.calls, 1);

        /* A hook drop ends the walk before the rules. */
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_INPUT, &drop_tcp, NULL), 0);
        h.answer = NS_VERDICT_DROP;
        assert_int_equal(ns__filter_check(&f, NS_HOOK_INPUT, p, &info_in), NS_VERDICT_DROP);
        assert_int_equal(h.calls, 2);
        assert_int_equal(ns__filter_list_rules(&f, NS_HOOK_INPUT, &drop_tcp, 1), 1);
        assert_int_equal(drop_tcp.packets, 0);

        /* Cleared: only the rule is left, which does not match UDP. */
        assert_int_equal(ns__filter_set_hook(&f, NS_HOOK_INPUT, NULL, &h), 0);
        assert_int_equal(f.active, 1u << NS_HOOK_INPUT);
        assert_int_equal(ns__filter_check(&f, NS_HOOK_INPUT, p, &info_in), NS_VERDICT_ACCEPT);
        assert_int_equal(h.calls, 2);
        ns__filter_flush(&f, NS_HOOK_INPUT);
        assert_int_equal(f.active, 0);

        ns_pkt_free(p);
        ns__filter_destroy(&f);
        ns_pkt_pool_destroy(pool);
}

static void test_pkt_dnat_sets_flag_and_copies_shared(void **state)
{
        (void)state;
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        struct ns_filter f;
        struct ns_filter_rule r = { .protocol = PROTO_UDP,
                                    .action = NS_FILTER_DNAT,
                                    .nat_addr = NAT,
                                    .nat_port = 4444,
                                    .set_mark = true,
                                    .mark = 5 };
        uint8_t b[128];
        struct pkt_spec s = { SRC, DST, PROTO_UDP, 1000, 53, 10, 0, false, 0xab };
        uint32_t len = build(b, &s);
        struct ns_pkt *p, *clone;

        assert_non_null(pool);
        p = ns_pkt_from_bytes(pool, 64, b, len);
        assert_non_null(p);
        clone = ns_pkt_clone(p);
        assert_non_null(clone);
        ns__filter_init(&f, NULL);
        assert_int_equal(ns__filter_add_rule(&f, NS_HOOK_PREROUTING, &r, NULL), 0);

        assert_int_equal(ns__filter_check(&f, NS_HOOK_PREROUTING, p, &info_in), NS_VERDICT_ACCEPT);
        assert_true(p->flags & NS_PKT_F_NAT_DONE);
        assert_int_equal(p->mark, 5);
        assert_int_equal(ns_load_be32(ns_pkt_data(p) + 16), NAT);
        assert_int_equal(ns_load_be16(ns_pkt_data(p) + 22), 4444);
        assert_true(ip_csum_ok(ns_pkt_data(p)));
        assert_true(l4_csum_ok(ns_pkt_data(p), p->len));
        /* The clone that shared the bytes still sees the original packet. */
        assert_false(ns_pkt_is_shared(p));
        assert_memory_equal(ns_pkt_data(clone), b, len);
        assert_false(clone->flags & NS_PKT_F_NAT_DONE);

        ns_pkt_free(clone);
        ns_pkt_free(p);
        ns__filter_destroy(&f);
        ns_pkt_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_filter_accepts_and_is_inactive),
                cmocka_unit_test(test_accept_all_and_drop_all),
                cmocka_unit_test(test_drop_some),
                cmocka_unit_test(test_unparseable_bytes_match_nothing),
                cmocka_unit_test(test_dnat_udp_rewrites_and_checksums_verify),
                cmocka_unit_test(test_dnat_udp_zero_checksum_stays_zero),
                cmocka_unit_test(test_dnat_udp_computed_zero_becomes_all_ones),
                cmocka_unit_test(test_dnat_tcp_and_icmp),
                cmocka_unit_test(test_dnat_later_fragment_keeps_payload),
                cmocka_unit_test(test_dnat_checksums_property),
                cmocka_unit_test(test_rule_validation),
                cmocka_unit_test(test_list_rules),
                cmocka_unit_test(test_allocation_failure_leaves_rules_intact),
                cmocka_unit_test(test_hook_function_and_pkt_path),
                cmocka_unit_test(test_pkt_dnat_sets_flag_and_copies_shared),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
