/*
 * IPv4 options end to end: every option row of gVisor's TestIPv4Sanity
 * (pkg/tcpip/network/ipv4) as an ICMP echo request carrying the options,
 * through a stack with the IPv4 module over a channel NIC. A row either
 * gets an echo reply carrying the processed options (RFC 791 3.1: Record
 * Route and Timestamp entries with our address and the milliseconds since
 * midnight UT of the manual wall clock; unknown options removed, as the
 * seed's optionUsageEcho) or an ICMP Parameter Problem (RFC 792, RFC 1122
 * 3.2.2.5) whose pointer is the byte gVisor and Linux blame. Then what
 * Linux `ping -R`, `ping -T tsonly` and `ping -T tsandaddr` send and get
 * back, and HOSTILE-INPUTS B.14-19.
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

/* gVisor's TestIPv4Sanity addresses and clock (0x00ad1c40 ms past midnight). */
#define LOCAL      NS_IP4(192, 168, 1, 58)
#define REMOTE     NS_IP4(192, 168, 1, 1)
#define TS_MS      0x00ad1c40u
#define TIME_BYTES 0x00, 0xad, 0x1c, 0x40
#define ADDR_BYTES 192, 168, 1, 58

#define OPTS_MAX 40
#define ECHO_ID  0x5157
#define ECHO_SEQ 3
#define REQ_IPID 0x4242

static const uint8_t payload[] = "options end to end";

static void env_up(struct ns_test_env *env)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, LOCAL, 24);
        /* The test stack starts at midnight UT: move the wall clock only. */
        env->clock.wall_ns += (int64_t)TS_MS * 1000000;
}

/* An echo request from REMOTE to dst with the given option bytes. */
static size_t build_echo(uint8_t *buf, size_t cap, ns_ip4 dst, const uint8_t *opts, size_t opts_len)
{
        size_t hlen = 20 + ((opts_len + 3) & ~(size_t)3);
        size_t n = ns_icmp4_emit_echo(buf + hlen, cap - hlen, NS_ICMP4_ECHO, ECHO_ID, ECHO_SEQ,
                                      payload, sizeof(payload));
        assert_int_not_equal(n, 0);
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(hlen + n),
                                    .id = REQ_IPID,
                                    .ttl = 64,
                                    .proto = NS_IPV4_PROTO_ICMP,
                                    .src = REMOTE,
                                    .dst = dst,
                                    .options = opts,
                                    .options_len = (uint8_t)opts_len };
        assert_int_equal(ns_ipv4_emit(buf, cap, &f), hlen);
        return hlen + n;
}

/* Takes the one packet the stack sent, checking IP header and ICMP checksums. */
static struct ns_pkt *read_one(struct ns_test_env *env)
{
        struct ns_pkt *r = ns_channel_read(env->ch[1]);
        assert_non_null(r);
        assert_null(ns_channel_read(env->ch[1]));
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
        assert_int_equal(ns_ipv4_total_len(h), ns_pkt_len(r));
        assert_true(ns_ipv4_checksum_ok(h, ns_ipv4_hdr_len(h)));
        assert_int_equal(ns_ipv4_proto(h), NS_IPV4_PROTO_ICMP);
        assert_int_equal(ns_ipv4_src(h), LOCAL);
        assert_int_equal(ns_ipv4_dst(h), REMOTE);
        size_t hl = ns_ipv4_hdr_len(h);
        assert_true(ns_icmp4_checksum_ok(h + hl, ns_pkt_len(r) - hl));
        return r;
}

/*
 * Checks an echo reply: the options are exactly want (want_len bytes, IHL
 * to match), the ICMP message is the request's with type 0 (HOSTILE 19:
 * lengths and checksums recomputed after the header rewrite).
 */
static void expect_echo_reply(struct ns_pkt *r, const uint8_t *want, size_t want_len)
{
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_hdr_len(h), 20 + want_len);
        if (want_len)
                assert_memory_equal(h + 20, want, want_len);
        const uint8_t *icmp = h + 20 + want_len;
        assert_int_equal(ns_pkt_len(r), 20 + want_len + 8 + sizeof(payload));
        assert_int_equal(ns_icmp4_type(icmp), NS_ICMP4_ECHO_REPLY);
        assert_int_equal(ns_icmp4_code(icmp), 0);
        assert_int_equal(ns_icmp4_id(icmp), ECHO_ID);
        assert_int_equal(ns_icmp4_seq(icmp), ECHO_SEQ);
        assert_memory_equal(icmp + 8, payload, sizeof(payload));
}

/* Checks a Parameter Problem with pointer ptr quoting the request req. */
static void expect_param_problem(struct ns_pkt *r, uint8_t ptr, const uint8_t *req, size_t req_len)
{
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_hdr_len(h), 20);
        const uint8_t *icmp = h + 20;
        assert_int_equal(ns_icmp4_type(icmp), NS_ICMP4_PARAM_PROBLEM);
        assert_int_equal(ns_icmp4_code(icmp), 0);
        assert_int_equal(ns_icmp4_pointer(icmp), ptr);
        /* The three bytes after the pointer are unused, zero (RFC 792). */
        assert_int_equal(icmp[5] | icmp[6] | icmp[7], 0);
        assert_int_equal(ns_pkt_len(r), 20 + 8 + req_len);
        assert_memory_equal(icmp + 8, req, req_len);
}

/* ---- gVisor TestIPv4Sanity, option rows (see tests/unit/test_ipv4_options.c) ---- */

struct row {
        const char *name;
        uint8_t in[OPTS_MAX];
        size_t in_len;
        bool ok;
        uint8_t want[OPTS_MAX]; /* the reply's options */
        size_t want_len;
        uint8_t ptr; /* the Parameter Problem pointer */
        uint8_t ts, rr, unknown;
};

#define IN(...) .in = { __VA_ARGS__ }, .in_len = sizeof((const uint8_t[]){ __VA_ARGS__ })
#define WANT(...) \
        .ok = true, .want = { __VA_ARGS__ }, .want_len = sizeof((const uint8_t[]){ __VA_ARGS__ })
#define FAIL(p) .ok = false, .ptr = (p)

static const struct row sanity[] = {
        { "End options", IN(0, 0, 0, 0), WANT(0, 0, 0, 0) },
        { "NOP options", IN(1, 1, 1, 1), WANT(1, 1, 1, 1) },
        { "NOP and End options", IN(1, 1, 0, 0), WANT(1, 1, 0, 0) },
        /* RFC 791: a full data area bumps the overflow count (high nibble). */
        { "timestamp option overflow", IN(68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2, 3, 4),
          WANT(68, 12, 13, 0x21, 192, 168, 1, 12, 1, 2, 3, 4), .ts = 1 },
        /* RFC 791: the overflow count itself overflows -> the flags byte. */
        { "timestamp option overflow full", IN(68, 12, 13, 0xf1, 192, 168, 1, 12, 1, 2, 3, 4),
          FAIL(20 + 3), .ts = 1 },
        /* The seed's echo usage removes options it does not know. */
        { "unknown option", IN(10, 4, 9, 0), .ok = true, .want_len = 0, .unknown = 1 },
        { "bad option - no length", IN(1, 1, 1, 68), FAIL(20 + 3) },
        /* Linux points at the option's type byte for a bad length. */
        { "bad option - length 0", IN(68, 0, 9, 0, 1, 2, 3, 4), FAIL(20) },
        { "bad option - length 1", IN(68, 1, 9, 0, 1, 2, 3, 4), FAIL(20) },
        { "bad option - length big", IN(68, 9, 9, 0, 1, 2, 3, 4), FAIL(20) },
        { "bad option - length bad", IN(68, 7, 5, 0, 1, 2, 3, 0), FAIL(20 + 2), .ts = 1 },
        { "multiple type 0 with room",
          IN(68, 24, 21, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0, 0),
          WANT(68, 24, 25, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, TIME_BYTES),
          .ts = 1 },
        { "type 0 with no room", IN(68, 8, 9, 0x00, 1, 2, 3, 4), WANT(68, 8, 9, 0x10, 1, 2, 3, 4),
          .ts = 1 },
        { "multiple type 1 timestamps",
          IN(68, 20, 21, 0x11, 192, 168, 1, 12, 1, 2, 3, 4, 192, 168, 1, 13, 5, 6, 7, 8),
          WANT(68, 20, 21, 0x21, 192, 168, 1, 12, 1, 2, 3, 4, 192, 168, 1, 13, 5, 6, 7, 8),
          .ts = 1 },
        { "multiple type 1 timestamps with room",
          IN(68, 28, 21, 0x01, 192, 168, 1, 12, 1, 2, 3, 4, 192, 168, 1, 13, 5, 6, 7, 8, 0, 0, 0, 0,
             0, 0, 0, 0),
          WANT(68, 28, 29, 0x01, 192, 168, 1, 12, 1, 2, 3, 4, 192, 168, 1, 13, 5, 6, 7, 8,
               ADDR_BYTES, TIME_BYTES),
          .ts = 1 },
        /* RFC 791: "The smallest legal value is 5." */
        { "timestamp pointer invalid", IN(68, 8, 0, 0x00, 0, 0, 0, 0), FAIL(20 + 2), .ts = 1 },
        { "timestamp pointer too small by 1", IN(68, 8, 4, 0x00, 0, 0, 0, 0), FAIL(20 + 2),
          .ts = 1 },
        { "valid timestamp pointer", IN(68, 8, 5, 0x00, 0, 0, 0, 0),
          WANT(68, 8, 9, 0x00, TIME_BYTES), .ts = 1 },
        /* Flag 1 needs 8 bytes; 4 are left. */
        { "bad timer element alignment",
          IN(68, 20, 17, 0x01, 192, 168, 1, 12, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0), FAIL(20 + 2),
          .ts = 1 },
        /* What follows EOL is never parsed, and is zeroed in the reply. */
        { "end of options list", IN(68, 12, 13, 0x11, 192, 168, 1, 12, 1, 2, 3, 4, 0, 10, 3, 99),
          WANT(68, 12, 13, 0x21, 192, 168, 1, 12, 1, 2, 3, 4, 0, 0, 0, 0), .ts = 1 },
        { "timestamp truncated", IN(68, 1, 0, 0), FAIL(20) },
        { "single record route with room", IN(7, 7, 4, 0, 0, 0, 0, 0), WANT(7, 7, 8, ADDR_BYTES, 0),
          .rr = 1 },
        { "multiple record route with room",
          IN(7, 23, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0, 0, 0),
          WANT(7, 23, 24, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, ADDR_BYTES, 0),
          .rr = 1 },
        /* RFC 791: a full route area passes unrecorded, no error. */
        { "single record route with no room", IN(7, 7, 8, 1, 2, 3, 4, 0),
          WANT(7, 7, 8, 1, 2, 3, 4, 0), .rr = 1 },
        { "multiple record route with no room",
          IN(7, 23, 24, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 0),
          WANT(7, 23, 24, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 0),
          .rr = 1 },
        /* RFC 791: "the smallest legal value for the pointer is 4". */
        { "record route pointer zero", IN(7, 8, 0, 0, 0, 0, 0, 0), FAIL(20 + 2), .rr = 1 },
        { "record route pointer too small by 1", IN(7, 8, 3, 0, 0, 0, 0, 0), FAIL(20 + 2),
          .rr = 1 },
        { "valid record route pointer", IN(7, 7, 4, 0, 0, 0, 0, 0), WANT(7, 7, 8, ADDR_BYTES, 0),
          .rr = 1 },
        /* One byte left, four needed: Linux blames the pointer. */
        { "multiple record route with not enough room", IN(7, 8, 8, 1, 2, 3, 4, 0), FAIL(20 + 2),
          .rr = 1 },
        /* RFC 791 3.1: at most one of each; the repeat's own offset. */
        { "duplicate record route", IN(7, 7, 8, 1, 2, 3, 4, 7, 7, 8, 1, 2, 3, 4, 0, 0),
          FAIL(20 + 7), .rr = 1 },
};

static void run_row(const struct row *t)
{
        print_message("  %s\n", t->name);
        struct ns_test_env env;
        env_up(&env);
        uint8_t req[256];
        size_t n = build_echo(req, sizeof(req), LOCAL, t->in, t->in_len);
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, req, (uint32_t)n), 0);
        struct ns_pkt *r = read_one(&env);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        if (t->ok) {
                expect_echo_reply(r, t->want, t->want_len);
                assert_int_equal(st.icmp.sent_echo_reply, 1);
                assert_int_equal(st.icmp.sent_param_problem, 0);
                assert_int_equal(st.ip.malformed_packets_received, 0);
        } else {
                expect_param_problem(r, t->ptr, req, n);
                assert_int_equal(st.icmp.sent_echo_reply, 0);
                assert_int_equal(st.icmp.sent_param_problem, 1);
                assert_int_equal(st.ip.malformed_packets_received, 1);
        }
        assert_int_equal(st.icmp.received_echo_request, 1);
        assert_int_equal(st.ip.option_timestamp_received, t->ts);
        assert_int_equal(st.ip.option_record_route_received, t->rr);
        assert_int_equal(st.ip.option_unknown_received, t->unknown);
        ns_pkt_free(r);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

static void test_sanity_option_rows(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(sanity) / sizeof(sanity[0]); i++)
                run_row(&sanity[i]);
}

/* ---- what Linux ping sends ---- */

/* Sends one echo request with opts and checks the reply's option area. */
static void ping_with(const uint8_t *opts, size_t len, const uint8_t *want, size_t want_len)
{
        struct ns_test_env env;
        env_up(&env);
        uint8_t req[256];
        size_t n = build_echo(req, sizeof(req), LOCAL, opts, len);
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, req, (uint32_t)n), 0);
        struct ns_pkt *r = read_one(&env);
        expect_echo_reply(r, want, want_len);
        ns_pkt_free(r);
        ns_test_env_destroy(&env);
}

/* iputils ping -R: NOP, then Record Route with 9 slots (RFC 791 3.1). */
static void test_ping_record_route(void **state)
{
        (void)state;
        uint8_t in[40] = { 1, 7, 39, 4 };
        uint8_t want[40] = { 1, 7, 39, 8, ADDR_BYTES };
        ping_with(in, sizeof(in), want, sizeof(want));
}

/* iputils ping -T tsonly: flag 0, 9 slots of 4 bytes. */
static void test_ping_timestamp_only(void **state)
{
        (void)state;
        uint8_t in[40] = { 68, 40, 5, 0 };
        uint8_t want[40] = { 68, 40, 9, 0, TIME_BYTES };
        ping_with(in, sizeof(in), want, sizeof(want));
}

/* iputils ping -T tsandaddr: flag 1, 4 slots of 8 bytes (length 36). */
static void test_ping_timestamp_and_address(void **state)
{
        (void)state;
        uint8_t in[36] = { 68, 36, 5, 1 };
        uint8_t want[36] = { 68, 36, 13, 1, ADDR_BYTES, TIME_BYTES };
        ping_with(in, sizeof(in), want, sizeof(want));
}

/* iputils ping -T tsprespec with our address first, another second. */
static void test_ping_timestamp_prespecified(void **state)
{
        (void)state;
        uint8_t in[20] = { 68, 20, 5, 3, ADDR_BYTES, 0, 0, 0, 0, 10, 0, 0, 1 };
        uint8_t want[20] = { 68, 20, 13, 3, ADDR_BYTES, TIME_BYTES, 10, 0, 0, 1 };
        ping_with(in, sizeof(in), want, sizeof(want));
}

/* Both options at once, each recorded once, wall clock moving between pings. */
static void test_ping_record_route_and_timestamp(void **state)
{
        (void)state;
        struct ns_test_env env;
        env_up(&env);
        /* Record Route (7 bytes), a NOP, Timestamp flag 1 with one slot. */
        uint8_t in[20] = { 7, 7, 4, 0, 0, 0, 0, 1, 68, 12, 5, 1 };
        for (uint32_t i = 0; i < 2; i++) {
                uint8_t req[128];
                size_t n = build_echo(req, sizeof(req), LOCAL, in, sizeof(in));
                assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, req, (uint32_t)n), 0);
                struct ns_pkt *r = read_one(&env);
                uint32_t ms = TS_MS + 1500 * i;
                uint8_t want[20] = { 7,
                                     7,
                                     8,
                                     ADDR_BYTES,
                                     1,
                                     68,
                                     12,
                                     13,
                                     1,
                                     ADDR_BYTES,
                                     ms >> 24,
                                     (uint8_t)(ms >> 16),
                                     (uint8_t)(ms >> 8),
                                     (uint8_t)ms };
                expect_echo_reply(r, want, sizeof(want));
                ns_pkt_free(r);
                ns_test_advance(&env, 1500LL * 1000000);
        }
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.ip.option_timestamp_received, 2);
        assert_int_equal(st.ip.option_record_route_received, 2);
        ns_test_env_destroy(&env);
}

/* RFC 791: the timestamp wraps at midnight UT (86400000 ms). */
static void test_timestamp_wraps_at_midnight(void **state)
{
        (void)state;
        struct ns_test_env env;
        env_up(&env);
        env.clock.wall_ns = NS_TEST_WALL_START_NS + 86400000LL * 1000000 * 3 + 7 * 1000000;
        uint8_t in[8] = { 68, 8, 5, 0 };
        uint8_t req[128];
        size_t n = build_echo(req, sizeof(req), LOCAL, in, sizeof(in));
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, req, (uint32_t)n), 0);
        struct ns_pkt *r = read_one(&env);
        uint8_t want[8] = { 68, 8, 9, 0, 0, 0, 0, 7 };
        expect_echo_reply(r, want, sizeof(want));
        ns_pkt_free(r);
        ns_test_env_destroy(&env);
}

/* The stack's source_route_dropped counter (HOSTILE-INPUTS 20). */
static uint64_t source_route_dropped(struct ns_test_env *env)
{
        struct ns_stats st;
        ns_stack_get_stats(env->s, &st);
        return st.ip.source_route_dropped;
}

/*
 * HOSTILE-INPUTS 14-16: every option length 0..255 in every position of a
 * 40-byte area, each either answered or refused with a Parameter Problem
 * pointing inside the option area; nothing read past it (ASan build). A
 * well-formed source route (131, 137) is dropped without an answer
 * (HOSTILE-INPUTS 20) and counted.
 */
static void test_every_length_byte(void **state)
{
        (void)state;
        struct ns_test_env env;
        env_up(&env);
        static const uint8_t types[] = { 7, 68, 10, 148, 131, 137 };
        uint64_t answered = 0, dropped = 0;
        for (size_t t = 0; t < sizeof(types); t++) {
                for (unsigned len = 0; len < 256; len += 3) {
                        for (size_t at = 0; at < 40; at += 13) {
                                uint8_t opts[40];
                                memset(opts, 1, sizeof(opts)); /* NOPs */
                                opts[at] = types[t];
                                if (at + 1 < 40)
                                        opts[at + 1] = (uint8_t)len;
                                if (at + 2 < 40)
                                        opts[at + 2] = 4;
                                uint8_t req[256];
                                size_t n = build_echo(req, sizeof(req), LOCAL, opts, sizeof(opts));
                                uint64_t srr = source_route_dropped(&env);
                                assert_int_equal(
                                    ns_channel_inject_bytes(env.ch[1], 0x0800, req, (uint32_t)n),
                                    0);
                                if (source_route_dropped(&env) != srr) {
                                        assert_null(ns_channel_read(env.ch[1]));
                                        dropped++;
                                        continue;
                                }
                                struct ns_pkt *r = read_one(&env);
                                const uint8_t *h = ns_pkt_data(r);
                                const uint8_t *icmp = h + ns_ipv4_hdr_len(h);
                                if (ns_icmp4_type(icmp) == NS_ICMP4_PARAM_PROBLEM) {
                                        assert_in_range(ns_icmp4_pointer(icmp), 20, 59);
                                } else {
                                        assert_int_equal(ns_icmp4_type(icmp), NS_ICMP4_ECHO_REPLY);
                                        answered++;
                                }
                                ns_pkt_free(r);
                                /* Stay clear of the per-destination error limit. */
                                ns_test_advance(&env, 1000000000LL);
                        }
                }
        }
        assert_true(answered > 0);
        assert_true(dropped > 0);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sanity_option_rows),
                cmocka_unit_test(test_ping_record_route),
                cmocka_unit_test(test_ping_timestamp_only),
                cmocka_unit_test(test_ping_timestamp_and_address),
                cmocka_unit_test(test_ping_timestamp_prespecified),
                cmocka_unit_test(test_ping_record_route_and_timestamp),
                cmocka_unit_test(test_timestamp_wraps_at_midnight),
                cmocka_unit_test(test_every_length_byte),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
