/*
 * Forwarding scenarios (issue [forwarding]) over three channel NICs with
 * the manual clock: the seed-era TestForwarding rows and every RFC 1812
 * rule netstack-c adds, each row saying what leaves which NIC and which
 * counters moved, exactly.
 *
 *   NIC 1  192.0.2.1/24     ingress (MTU 9000)
 *   NIC 2  198.51.100.1/24  egress; 10.0.0.0/8 via 198.51.100.254
 *   NIC 3  203.0.113.1/24   a third link
 */
#include <stdio.h>
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/ipv4.h>
#include <netstack/udp.h>

#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_udp, NULL };

#define A1             NS_IP4(192, 0, 2, 1)
#define A2             NS_IP4(198, 51, 100, 1)
#define A3             NS_IP4(203, 0, 113, 1)
#define HOST1          NS_IP4(192, 0, 2, 7)    /* a host on NIC 1's link */
#define HOST2          NS_IP4(198, 51, 100, 7) /* a host on NIC 2's link */
#define GW2            NS_IP4(198, 51, 100, 254)
#define BEYOND         NS_IP4(10, 1, 2, 3)   /* behind GW2 */
#define NOROUTE        NS_IP4(100, 64, 0, 1) /* no route */
#define PROTO          253                   /* RFC 3692 experimental */
#define SEC            1000000000LL
#define FWD_OK         "ip.packets_received=1 ip.valid_packets_received=1 ip.forwarded=1 ip.packets_sent=1"
#define IN_OK          "ip.packets_received=1 ip.valid_packets_received=1 "
#define ICMP_OUT(kind) "ip.packets_sent=1 icmp.sent_total=1 icmp." kind "=1 "

static void setup_mtu(struct ns_test_env *env, uint32_t mtu2)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 9000, A1, 24);
        ns_test_add_nic(env, 2, mtu2, A2, 24);
        ns_test_add_nic(env, 3, 1500, A3, 24);
        struct ns_route_entry r = { .dst = { NS_IP4(10, 0, 0, 0), 8 },
                                    .gateway = GW2,
                                    .nic_id = 2 };
        assert_int_equal(ns_route_add(env->s, &r), 0);
        assert_int_equal(ns_ipv4_set_param(env->s, NS_IPV4_PARAM_FORWARDING, 1), 0);
}

static void setup(struct ns_test_env *env)
{
        setup_mtu(env, 1500);
}

static void teardown(struct ns_test_env *env)
{
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

static size_t inject(struct ns_test_env *env, uint32_t nic, const struct ipv4_spec *spec,
                     uint8_t *buf, size_t cap)
{
        size_t n = ipv4_build(buf, cap, spec);
        assert_int_equal(ns_channel_inject_bytes(env->ch[nic], 0x0800, buf, (uint32_t)n), 0);
        return n;
}

static void expect_quiet(struct ns_test_env *env)
{
        for (int i = 1; i <= 3; i++)
                assert_int_equal(ns_channel_queued(env->ch[i]), 0);
}

/* ---- single-packet rows ---------------------------------------------------- */

enum { NONE = 0 };

struct row {
        const char *name;
        struct ipv4_spec in;
        uint32_t in_nic; /* 0: NIC 1 */
        void (*tweak)(struct ns_test_env *env);
        uint32_t out_nic; /* NIC the forwarded datagram leaves by, or NONE */
        uint8_t out_ttl;
        const uint8_t *out_opts; /* expected option area of the forwarded datagram */
        uint32_t icmp_nic;       /* NIC an ICMP error leaves by, or NONE */
        uint8_t icmp_type, icmp_code;
        uint32_t icmp_rest; /* expected "rest of header" word */
        ns_ip4 icmp_src;    /* expected source of the error */
        const char *deltas;
};

static const uint8_t payload8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static uint8_t big_payload[9000];

static const uint8_t eol4[4] = { 0, 0, 0, 0 };
static const uint8_t ts1_full[12] = { 68, 12, 13, 0xF1, 192, 168, 1, 12, 1, 2, 3, 4 };
static const uint8_t ts0_in[24] = { 68, 24, 21, 0x00, 1,  2,  3,  4,  5, 6, 7, 8,
                                    9,  10, 11, 12,   13, 14, 15, 16, 0, 0, 0, 0 };
/* The manual clock is moved to 0x00ad1c40 ms past midnight UT, as gVisor's test. */
static const uint8_t ts0_out[24] = { 68, 24, 25, 0x00, 1,  2,  3,  4,  5,    6,    7,    8,
                                     9,  10, 11, 12,   13, 14, 15, 16, 0x00, 0xad, 0x1c, 0x40 };
static const uint8_t eool_in[20] = { 68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2,
                                     3,  4,  0,  10,   3,   99,  1, 2,  3, 4 };
static const uint8_t eool_out[20] = { 68, 12, 13, 0x21, 192, 168, 1, 12, 1, 2,
                                      3,  4,  0,  0,    0,   0,   0, 0,  0, 0 };
/* Record Route and Timestamp with addresses: the router writes its egress address. */
static const uint8_t rr_in[12] = { 7, 11, 4 };
static const uint8_t rr_out[12] = { 7, 11, 8, 198, 51, 100, 1 };
static const uint8_t tsa_in[20] = { 68, 20, 5, 0x01 };
static const uint8_t tsa_out[20] = { 68, 20, 13, 0x01, 198, 51, 100, 1, 0x00, 0xad, 0x1c, 0x40 };

static void nic1_no_forwarding(struct ns_test_env *env)
{
        assert_int_equal(ns_ipv4_set_nic_forwarding(env->s, 1, false), 0);
        bool on = true;
        assert_int_equal(ns_ipv4_get_nic_forwarding(env->s, 1, &on), 0);
        assert_false(on);
}

static void nic2_no_forwarding(struct ns_test_env *env)
{
        /* Linux checks the ingress NIC only: NIC 2 not forwarding changes nothing here. */
        assert_int_equal(ns_ipv4_set_nic_forwarding(env->s, 2, false), 0);
}

static void directed_broadcast_on(struct ns_test_env *env)
{
        assert_int_equal(ns_ipv4_set_param(env->s, NS_IPV4_PARAM_DIRECTED_BROADCAST, 1), 0);
}

#define SPEC(...)                                                                  \
        {                                                                          \
                .proto = PROTO, .payload = payload8, .payload_len = 8, __VA_ARGS__ \
        }

static const struct row rows[] = {
        /* gVisor TestForwarding (2021), on RFC 791 / RFC 1812 5.3.1. */
        { .name = "TTL of zero: time exceeded (RFC 792)",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 0),
          .icmp_nic = 1,
          .icmp_type = NS_ICMP4_TIME_EXCEEDED,
          .icmp_code = NS_ICMP4_TTL_EXCEEDED,
          .icmp_src = A1,
          .deltas = IN_OK ICMP_OUT("sent_time_exceeded") "ip.forward_ttl_exceeded=1 "
                                                         "ip.forward_errors=1" },
        { .name = "TTL of one: time exceeded (RFC 1812 5.3.1, Linux; the seed forwarded TTL 0)",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 1),
          .icmp_nic = 1,
          .icmp_type = NS_ICMP4_TIME_EXCEEDED,
          .icmp_code = NS_ICMP4_TTL_EXCEEDED,
          .icmp_src = A1,
          .deltas = IN_OK ICMP_OUT("sent_time_exceeded") "ip.forward_ttl_exceeded=1 "
                                                         "ip.forward_errors=1" },
        { .name = "TTL of two",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 2),
          .out_nic = 2,
          .out_ttl = 1,
          .deltas = FWD_OK },
        { .name = "max TTL",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 255),
          .out_nic = 2,
          .out_ttl = 254,
          .deltas = FWD_OK },
        { .name = "four EOL options",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 2, .options = eol4, .options_len = 4),
          .out_nic = 2,
          .out_ttl = 1,
          .out_opts = eol4,
          .deltas = FWD_OK },
        { .name = "TS type 1 full: overflow counter full, parameter problem (RFC 791)",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 2, .options = ts1_full, .options_len = 12),
          .icmp_nic = 1,
          .icmp_type = NS_ICMP4_PARAM_PROBLEM,
          .icmp_rest = 23u << 24,
          .icmp_src = A1,
          .deltas = IN_OK ICMP_OUT(
              "sent_param_problem") "ip.option_timestamp_received=1 "
                                    "ip.malformed_packets_received=1 ip.forward_errors=1" },
        { .name = "TS type 0: the time is written",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 2, .options = ts0_in, .options_len = 24),
          .out_nic = 2,
          .out_ttl = 1,
          .out_opts = ts0_out,
          .deltas = FWD_OK " ip.option_timestamp_received=1" },
        { .name = "end of options list hides what follows",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 2, .options = eool_in, .options_len = 20),
          .out_nic = 2,
          .out_ttl = 1,
          .out_opts = eool_out,
          .deltas = FWD_OK " ip.option_timestamp_received=1" },
        /* RFC 791, RFC 1812 5.2.1, Linux ip_forward_options: the egress address. */
        { .name = "record route records the egress address",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 9, .options = rr_in, .options_len = 12),
          .out_nic = 2,
          .out_ttl = 8,
          .out_opts = rr_out,
          .deltas = FWD_OK " ip.option_record_route_received=1" },
        { .name = "timestamp with addresses records the egress address",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 9, .options = tsa_in, .options_len = 20),
          .out_nic = 2,
          .out_ttl = 8,
          .out_opts = tsa_out,
          .deltas = FWD_OK " ip.option_timestamp_received=1" },
        { .name = "through a gateway",
          .in = SPEC(.src = HOST1, .dst = BEYOND, .ttl = 64),
          .out_nic = 2,
          .out_ttl = 63,
          .deltas = FWD_OK },
        { .name = "back out of the NIC it came in by",
          .in = SPEC(.src = HOST1, .dst = NS_IP4(192, 0, 2, 9), .ttl = 64),
          .out_nic = 1,
          .out_ttl = 63,
          .deltas = FWD_OK },
        /* Per-NIC switches (Linux conf/<nic>/forwarding: the ingress NIC's counts). */
        { .name = "ingress NIC not forwarding: dropped as Linux (InAddrErrors)",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 64),
          .tweak = nic1_no_forwarding,
          .deltas = IN_OK "ip.invalid_destination_addresses_received=1" },
        { .name = "egress NIC not forwarding: forwarded (only the ingress NIC's switch counts)",
          .in = SPEC(.src = HOST1, .dst = HOST2, .ttl = 64),
          .tweak = nic2_no_forwarding,
          .out_nic = 2,
          .out_ttl = 63,
          .deltas = FWD_OK },
        /* Never forwarded, each with its counter. */
        { .name = "multicast destination: no multicast routing",
          .in = SPEC(.src = HOST1, .dst = NS_IP4(239, 1, 2, 3), .ttl = 64),
          .deltas = IN_OK "ip.forward_multicast=1" },
        { .name = "directed broadcast, off (RFC 2644): taken, not forwarded",
          .in = SPEC(.src = HOST1, .dst = NS_IP4(198, 51, 100, 255), .ttl = 64),
          .deltas = "ip.packets_received=1 ip.valid_packets_received=2 "
                    "ip.forward_directed_broadcast=1 ip.broadcast_packets_received=1 "
                    "ip.packets_delivered=1 ip.unknown_protocol_received=1" },
        { .name = "directed broadcast, on: forwarded onto the subnet and taken",
          .in = SPEC(.src = HOST1, .dst = NS_IP4(198, 51, 100, 255), .ttl = 64),
          .tweak = directed_broadcast_on,
          .out_nic = 2,
          .out_ttl = 63,
          .deltas = "ip.packets_received=1 ip.valid_packets_received=2 ip.forwarded=1 "
                    "ip.packets_sent=1 ip.broadcast_packets_received=1 "
                    "ip.packets_delivered=1 ip.unknown_protocol_received=1" },
        { .name = "unspecified source (RFC 1812 5.3.7)",
          .in = SPEC(.src = NS_IP4_ANY, .dst = HOST2, .ttl = 64),
          .deltas = IN_OK "ip.forward_initializing_source=1 ip.forward_errors=1" },
        { .name = "0/8 source (RFC 1812 5.3.7)",
          .in = SPEC(.src = NS_IP4(0, 1, 2, 3), .dst = HOST2, .ttl = 64),
          .deltas = IN_OK "ip.forward_martian_source=1 ip.forward_errors=1" },
        { .name = "class E source (RFC 1812 5.3.7)",
          .in = SPEC(.src = NS_IP4(240, 0, 0, 1), .dst = HOST2, .ttl = 64),
          .deltas = IN_OK "ip.forward_martian_source=1 ip.forward_errors=1" },
        { .name = "127/8 source: a martian before forwarding is asked",
          .in = SPEC(.src = NS_IP4(127, 0, 0, 1), .dst = HOST2, .ttl = 64),
          .deltas = "ip.packets_received=1 ip.martian_loopback_dropped=1" },
        { .name = "source is our address on another NIC (Linux fib_validate_source)",
          .in = SPEC(.src = A3, .dst = HOST2, .ttl = 64),
          .deltas = IN_OK "ip.forward_martian_source=1 ip.forward_errors=1" },
        { .name = "link-local source (RFC 3927 7)",
          .in = SPEC(.src = NS_IP4(169, 254, 1, 1), .dst = HOST2, .ttl = 64),
          .deltas = IN_OK "ip.forward_link_local_source=1 ip.forward_errors=1" },
        { .name = "link-local destination (RFC 3927 7)",
          .in = SPEC(.src = HOST1, .dst = NS_IP4(169, 254, 1, 1), .ttl = 64),
          .deltas = IN_OK "ip.forward_link_local_destination=1 ip.forward_errors=1" },
        { .name = "0/8 destination: a martian destination",
          .in = SPEC(.src = HOST1, .dst = NS_IP4(0, 0, 0, 9), .ttl = 64),
          .deltas = IN_OK "ip.invalid_destination_addresses_received=1" },
        { .name = "no route: network unreachable (Linux ip_error)",
          .in = SPEC(.src = HOST1, .dst = NOROUTE, .ttl = 64),
          .icmp_nic = 1,
          .icmp_type = NS_ICMP4_DEST_UNREACH,
          .icmp_code = NS_ICMP4_NET_UNREACH,
          .icmp_src = A1,
          .deltas =
              IN_OK ICMP_OUT("sent_dst_unreachable") "ip.forward_unrouteable=1 "
                                                     "ip.in_no_routes=1 ip.forward_errors=1" },
        /* Destinations that are ours on another NIC: delivered (weak host), TTL untouched. */
        { .name = "another NIC's address with TTL 1: delivered, no time exceeded",
          .in = SPEC(.src = HOST1, .dst = A3, .ttl = 1),
          .icmp_nic = 1,
          .icmp_type = NS_ICMP4_DEST_UNREACH,
          .icmp_code = 2,
          .icmp_src = A3,
          .deltas = "ip.packets_received=1 ip.valid_packets_received=2 ip.packets_delivered=1 "
                    "ip.unknown_protocol_received=1 " ICMP_OUT("sent_dst_unreachable") },
        { .name = "another NIC's address, ingress NIC not forwarding: still delivered",
          .in = SPEC(.src = HOST1, .dst = A3, .ttl = 64),
          .tweak = nic1_no_forwarding,
          .icmp_nic = 1,
          .icmp_type = NS_ICMP4_DEST_UNREACH,
          .icmp_code = 2,
          .icmp_src = A3,
          .deltas = "ip.packets_received=1 ip.valid_packets_received=2 ip.packets_delivered=1 "
                    "ip.unknown_protocol_received=1 " ICMP_OUT("sent_dst_unreachable") },
        /* RFC 1191, RFC 1812 5.2.6: never a silent drop. */
        { .name = "DF and too big: fragmentation needed with the next-hop MTU",
          .in = { .src = HOST1,
                  .dst = HOST2,
                  .ttl = 64,
                  .proto = PROTO,
                  .flags = NS_IPV4_FLAG_DF,
                  .payload = big_payload,
                  .payload_len = 1481 },
          .icmp_nic = 1,
          .icmp_type = NS_ICMP4_DEST_UNREACH,
          .icmp_code = NS_ICMP4_FRAG_NEEDED,
          .icmp_rest = 1500,
          .icmp_src = A1,
          .deltas = IN_OK ICMP_OUT("sent_dst_unreachable") "ip.forward_packet_too_big=1 "
                                                           "ip.frag_fails=1 ip.forward_errors=1" },
        { .name = "DF and exactly the MTU: forwarded whole",
          .in = { .src = HOST1,
                  .dst = HOST2,
                  .ttl = 64,
                  .proto = PROTO,
                  .flags = NS_IPV4_FLAG_DF,
                  .payload = big_payload,
                  .payload_len = 1480 },
          .out_nic = 2,
          .out_ttl = 63,
          .deltas = FWD_OK },
};

static void expect_icmp(struct ns_test_env *env, const struct row *r, const uint8_t *in,
                        size_t in_len)
{
        struct ns_pkt *e = ns_channel_read(env->ch[r->icmp_nic]);
        assert_non_null(e);
        const uint8_t *h = ns_pkt_data(e);
        size_t hl = ns_ipv4_hdr_len(h);
        assert_int_equal(ns_ipv4_proto(h), NS_IPV4_PROTO_ICMP);
        assert_int_equal(ns_ipv4_dst(h), r->in.src);
        assert_int_equal(ns_ipv4_src(h), r->icmp_src);
        const uint8_t *icmp = h + hl;
        assert_int_equal(ns_icmp4_type(icmp), r->icmp_type);
        assert_int_equal(ns_icmp4_code(icmp), r->icmp_code);
        assert_int_equal(ns_load_be32(icmp + 4), r->icmp_rest);
        assert_true(ns_icmp4_checksum_ok(icmp, ns_pkt_len(e) - hl));
        /* The quote is the datagram as it arrived (RFC 1812 4.3.2.3: up to 576 bytes). */
        size_t q = ns_pkt_len(e) - hl - 8;
        assert_true(q <= in_len);
        assert_memory_equal(icmp + 8, in, q);
        ns_pkt_free(e);
}

static void run_row(const struct row *r)
{
        struct ns_test_env env;
        setup(&env);
        if (r->tweak)
                r->tweak(&env);
        /* 0x00ad1c40 ms past midnight UT, for the timestamp rows (gVisor's value). */
        ns_test_advance(&env, 0x00ad1c40LL * 1000000);
        static uint8_t buf[10000];
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        size_t n = inject(&env, r->in_nic ? r->in_nic : 1, &r->in, buf, sizeof(buf));
        ns_stack_get_stats(env.s, &after);
        print_message("row: %s\n", r->name);
        expect_deltas(&before, &after, r->deltas);
        if (r->out_nic) {
                struct ns_pkt *f = ns_channel_read(env.ch[r->out_nic]);
                assert_non_null(f);
                const uint8_t *h = ns_pkt_data(f);
                size_t hl = ns_ipv4_hdr_len(h);
                assert_int_equal(ns_pkt_len(f), n);
                assert_int_equal(ns_ipv4_ttl(h), r->out_ttl);
                assert_true(ns_ipv4_checksum_ok(h, hl));
                assert_int_equal(ns_ipv4_src(h), r->in.src);
                assert_int_equal(ns_ipv4_dst(h), r->in.dst);
                if (r->out_opts)
                        assert_memory_equal(h + 20, r->out_opts, r->in.options_len);
                /* Everything past the header is carried untouched. */
                assert_memory_equal(h + hl, buf + hl, n - hl);
                ns_pkt_free(f);
        }
        if (r->icmp_nic)
                expect_icmp(&env, r, buf, n);
        expect_quiet(&env);
        teardown(&env);
}

static void test_rows(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                run_row(&rows[i]);
}

/* ---- forwarding switch for the whole protocol ---------------------------- */

static void test_protocol_switch_off(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_FORWARDING, 0), 0);
        uint8_t buf[64];
        struct ipv4_spec s = SPEC(.src = HOST1, .dst = HOST2, .ttl = 64);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        inject(&env, 1, &s, buf, sizeof(buf));
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after, IN_OK "ip.invalid_destination_addresses_received=1");
        expect_quiet(&env);
        /* Parameters: defaults, ranges, unknown ones. */
        int64_t v;
        assert_int_equal(ns_ipv4_get_param(env.s, NS_IPV4_PARAM_DIRECTED_BROADCAST, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(ns_ipv4_get_param(env.s, NS_IPV4_PARAM_MIN_PMTU, &v), 0);
        assert_int_equal(v, 552);
        assert_int_equal(ns_ipv4_get_param(env.s, NS_IPV4_PARAM_PMTU_TIMEOUT_MS, &v), 0);
        assert_int_equal(v, 600000);
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_MIN_PMTU, 67),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_MIN_PMTU, 65536),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_PMTU_TIMEOUT_MS, 0),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_ipv4_set_param(env.s, (enum ns_ipv4_param)999, 1),
                         NS_ERR_UNKNOWN_PROTOCOL_OPTION);
        assert_int_equal(ns_ipv4_set_nic_forwarding(env.s, 4, true), NS_ERR_UNKNOWN_NIC);
        bool on = false;
        assert_int_equal(ns_ipv4_get_nic_forwarding(env.s, 2, &on), 0);
        assert_true(on);
        teardown(&env);
}

/* ---- egress fragmentation ------------------------------------------------------ */

/*
 * Reads every fragment off NIC 2 and checks RFC 791 fragmentation of the
 * datagram in (len bytes, header hlen) at mtu: pieces within the MTU,
 * contiguous 8-byte-aligned offsets starting at first_off, one ID, TTL-1,
 * MF on all but the last (which keeps the original's MF), payload intact.
 * Returns the number of fragments.
 */
static uint32_t expect_fragments(struct ns_test_env *env, const uint8_t *in, size_t len,
                                 uint32_t mtu)
{
        size_t hlen = ns_ipv4_hdr_len(in);
        uint32_t off = ns_ipv4_frag_off(in), count = 0;
        size_t done = 0, payload = len - hlen;
        struct ns_pkt *f;
        while ((f = ns_channel_read(env->ch[2])) != NULL) {
                const uint8_t *h = ns_pkt_data(f);
                size_t hl = ns_ipv4_hdr_len(h), fl = ns_pkt_len(f);
                assert_true(fl <= mtu);
                assert_int_equal(ns_ipv4_total_len(h), fl);
                assert_true(ns_ipv4_checksum_ok(h, hl));
                assert_int_equal(ns_ipv4_id(h), ns_ipv4_id(in));
                assert_int_equal(ns_ipv4_ttl(h), ns_ipv4_ttl(in) - 1);
                assert_int_equal(ns_ipv4_frag_off(h), off + done);
                size_t chunk = fl - hl;
                bool last = done + chunk == payload;
                if (!last)
                        assert_int_equal(chunk % 8, 0);
                assert_int_equal(ns_ipv4_mf(h), last ? ns_ipv4_mf(in) : true);
                assert_memory_equal(h + hl, in + hlen + done, chunk);
                done += chunk;
                count++;
                ns_pkt_free(f);
        }
        assert_int_equal(done, payload);
        return count;
}

static void test_fragments_9000_to_576_1280_1500(void **state)
{
        (void)state;
        static const struct {
                uint32_t mtu, pieces;
        } cases[] = { { 576, 17 }, { 1280, 8 }, { 1500, 7 } };
        for (size_t i = 0; i < 3; i++) {
                struct ns_test_env env;
                setup_mtu(&env, cases[i].mtu);
                for (size_t k = 0; k < sizeof(big_payload); k++)
                        big_payload[k] = (uint8_t)(k * 13 + 5);
                static uint8_t buf[9100];
                struct ipv4_spec s = { .src = HOST1,
                                       .dst = HOST2,
                                       .ttl = 64,
                                       .proto = PROTO,
                                       .id = 0x4242,
                                       .payload = big_payload,
                                       .payload_len = 9000 - 20 };
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                size_t n = inject(&env, 1, &s, buf, sizeof(buf));
                ns_stack_get_stats(env.s, &after);
                char d[256];
                snprintf(d, sizeof(d),
                         IN_OK "ip.forwarded=1 ip.packets_sent=%u ip.frag_oks=1 "
                               "ip.frag_creates=%u",
                         cases[i].pieces, cases[i].pieces);
                expect_deltas(&before, &after, d);
                assert_int_equal(expect_fragments(&env, buf, n, cases[i].mtu), cases[i].pieces);
                memset(big_payload, 0, sizeof(big_payload));
                teardown(&env);
        }
}

/* HOSTILE 49: a fragment refragmented keeps its ID, its offset base and its MF. */
static void test_refragment_a_fragment(void **state)
{
        (void)state;
        for (int mf = 0; mf < 2; mf++) {
                struct ns_test_env env;
                setup_mtu(&env, 576);
                static uint8_t buf[5000];
                struct ipv4_spec s = { .src = HOST1,
                                       .dst = HOST2,
                                       .ttl = 30,
                                       .proto = PROTO,
                                       .id = 777,
                                       .flags = mf ? NS_IPV4_FLAG_MF : 0,
                                       .frag_off = 2960,
                                       .payload = big_payload,
                                       .payload_len = 2000 };
                size_t n = inject(&env, 1, &s, buf, sizeof(buf));
                assert_int_equal(expect_fragments(&env, buf, n, 576), 4);
                teardown(&env);
        }
}

/* ---- forwarded ICMP errors pass untouched (HOSTILE 53) --------------------------- */

static void test_icmp_errors_forwarded_untouched(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        /* A destination unreachable quoting a header with 40 bytes of odd options. */
        uint8_t icmp[8 + 60 + 8] = { NS_ICMP4_DEST_UNREACH, 1 };
        uint8_t *q = icmp + 8;
        q[0] = 0x4f;
        for (int i = 20; i < 60; i++)
                q[i] = (uint8_t)(0x80 + i);         /* unknown, malformed options */
        uint8_t type42[12] = { 42, 7, 0xde, 0xad }; /* an unassigned ICMP type */
        const struct {
                const uint8_t *p;
                uint32_t len;
        } cases[] = { { icmp, sizeof(icmp) }, { icmp, 10 }, { type42, sizeof(type42) } };
        for (size_t i = 0; i < 3; i++) {
                uint8_t buf[256];
                struct ipv4_spec s = { .src = HOST2,
                                       .dst = HOST1,
                                       .ttl = 64,
                                       .proto = NS_IPV4_PROTO_ICMP,
                                       .payload = cases[i].p,
                                       .payload_len = cases[i].len };
                size_t n = inject(&env, 2, &s, buf, sizeof(buf));
                struct ns_pkt *f = ns_channel_read(env.ch[1]);
                assert_non_null(f);
                assert_int_equal(ns_pkt_len(f), n);
                assert_memory_equal(ns_pkt_data(f) + 20, buf + 20, n - 20);
                assert_int_equal(ns_ipv4_ttl(ns_pkt_data(f)), 63);
                ns_pkt_free(f);
        }
        /* And the error about a TTL-expired ICMP error is never sent (RFC 1122 3.2.2). */
        uint8_t buf[256];
        struct ipv4_spec s = { .src = HOST2,
                               .dst = HOST1,
                               .ttl = 1,
                               .proto = NS_IPV4_PROTO_ICMP,
                               .payload = icmp,
                               .payload_len = sizeof(icmp) };
        inject(&env, 2, &s, buf, sizeof(buf));
        expect_quiet(&env);
        teardown(&env);
}

/* ---- path-MTU cache ---------------------------------------------------------- */

/* Injects on NIC 2 a fragmentation-needed from GW2 about a datagram src -> dst. */
static void frag_needed(struct ns_test_env *env, ns_ip4 src, ns_ip4 dst, uint16_t mtu)
{
        uint8_t quoted[28];
        struct ipv4_spec qs = { .src = src,
                                .dst = dst,
                                .ttl = 64,
                                .proto = 17,
                                .payload = payload8,
                                .payload_len = 8 };
        ipv4_build(quoted, sizeof(quoted), &qs);
        uint8_t icmp[8 + 28];
        ns_icmp4_emit_error(icmp, sizeof(icmp), NS_ICMP4_DEST_UNREACH, NS_ICMP4_FRAG_NEEDED,
                            ns_icmp4_rest_mtu(mtu), quoted, sizeof(quoted));
        uint8_t buf[128];
        struct ipv4_spec s = { .src = GW2,
                               .dst = A2,
                               .ttl = 64,
                               .proto = NS_IPV4_PROTO_ICMP,
                               .payload = icmp,
                               .payload_len = sizeof(icmp) };
        inject(env, 2, &s, buf, sizeof(buf));
}

/* Sends 1000 UDP bytes to dst and returns how many packets left NIC 2. */
static uint32_t send_1000(struct ns_test_env *env, struct ns_udp_ep *u, ns_ip4 dst,
                          uint32_t *largest)
{
        static const uint8_t data[1000];
        assert_int_equal(ns_udp_send(u, dst, 9, data, sizeof(data)), 0);
        uint32_t n = 0;
        *largest = 0;
        struct ns_pkt *f;
        while ((f = ns_channel_read(env->ch[2])) != NULL) {
                if (ns_pkt_len(f) > *largest)
                        *largest = ns_pkt_len(f);
                n++;
                ns_pkt_free(f);
        }
        return n;
}

static void test_pmtu_cache(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ns_udp_ep *u;
        assert_int_equal(ns_udp_open(env.s, &u), 0);
        uint32_t mtu, largest;
        assert_int_equal(ns_ipv4_get_pmtu(env.s, BEYOND, &mtu), NS_ERR_NOT_FOUND);
        assert_int_equal(send_1000(&env, u, BEYOND, &largest), 1);
        assert_int_equal(largest, 1028);

        /* A forged error about someone else's datagram teaches nothing. */
        frag_needed(&env, HOST1, BEYOND, 600);
        assert_int_equal(ns_ipv4_get_pmtu(env.s, BEYOND, &mtu), NS_ERR_NOT_FOUND);

        /* About ours: the send path fragments to 600 from now on. */
        frag_needed(&env, A2, BEYOND, 600);
        assert_int_equal(ns_ipv4_get_pmtu(env.s, BEYOND, &mtu), 0);
        assert_int_equal(mtu, 600);
        assert_int_equal(send_1000(&env, u, BEYOND, &largest), 2);
        assert_true(largest <= 600);
        /* Only other destinations keep the route's MTU. */
        assert_int_equal(send_1000(&env, u, NS_IP4(10, 9, 9, 9), &largest), 1);

        /* A larger report does not raise it; a smaller one lowers it, floored at 552. */
        frag_needed(&env, A2, BEYOND, 1400);
        assert_int_equal(ns_ipv4_get_pmtu(env.s, BEYOND, &mtu), 0);
        assert_int_equal(mtu, 600);
        frag_needed(&env, A2, BEYOND, 300);
        assert_int_equal(ns_ipv4_get_pmtu(env.s, BEYOND, &mtu), 0);
        assert_int_equal(mtu, 552);

        /* Ten minutes later it is forgotten (Linux mtu_expires). */
        ns_test_advance(&env, 600 * SEC - 1);
        assert_int_equal(ns_ipv4_get_pmtu(env.s, BEYOND, &mtu), 0);
        ns_test_advance(&env, 1);
        assert_int_equal(ns_ipv4_get_pmtu(env.s, BEYOND, &mtu), NS_ERR_NOT_FOUND);
        assert_int_equal(send_1000(&env, u, BEYOND, &largest), 1);
        assert_int_equal(largest, 1028);

        /* Settable: floor 400, lifetime one second. */
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_MIN_PMTU, 400), 0);
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_PMTU_TIMEOUT_MS, 1000), 0);
        frag_needed(&env, A2, BEYOND, 100);
        assert_int_equal(ns_ipv4_get_pmtu(env.s, BEYOND, &mtu), 0);
        assert_int_equal(mtu, 400);
        assert_int_equal(send_1000(&env, u, BEYOND, &largest), 3);
        assert_true(largest <= 400);
        ns_test_advance(&env, SEC);
        assert_int_equal(ns_ipv4_get_pmtu(env.s, BEYOND, &mtu), NS_ERR_NOT_FOUND);
        ns_udp_close(u);
        teardown(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rows),
                cmocka_unit_test(test_protocol_switch_off),
                cmocka_unit_test(test_fragments_9000_to_576_1280_1500),
                cmocka_unit_test(test_refragment_a_fragment),
                cmocka_unit_test(test_icmp_errors_forwarded_untouched),
                cmocka_unit_test(test_pmtu_cache),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
