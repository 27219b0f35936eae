/*
 * ICMP errors this host sends, end to end through the IPv4 module: the
 * "never send an ICMP error" rules of RFC 1122 3.2.2 and RFC 1812 4.3.2.7
 * (HOSTILE-INPUTS 58), the 576-byte quote of RFC 1812 4.3.2.3 (HOSTILE
 * 57), and the rate limits (gVisor's global 1000/s burst 50, Linux's
 * per-destination 1/s burst 6 for icmp_ratemask 6168; HOSTILE 65), with
 * the manual clock. A test transport on protocol 17 owns no port, so every
 * UDP datagram provokes a Port Unreachable (RFC 1122 3.2.2.1) when allowed.
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include "core/ratelimit.h"
#include "core/stack.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define LOCAL        NS_IP4(192, 168, 1, 58)
#define REMOTE       NS_IP4(192, 168, 1, 1)
#define GATEWAY      NS_IP4(192, 168, 1, 254)
#define SUBNET_BCAST NS_IP4(192, 168, 1, 255)
#define GROUP        NS_IP4(239, 1, 2, 3)
#define SEC          1000000000LL

/* The closed-port UDP transport: counts what reaches it. */
struct closed_udp {
        unsigned delivered;
};

static enum ns_deliver_result closed_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        (void)nic;
        (void)pkt;
        ((struct closed_udp *)ctx)->delivered++;
        return NS_DELIVER_PORT_UNREACHABLE;
}

static void env_up_cfg(struct ns_test_env *env, struct closed_udp *udp,
                       void (*tweak)(struct ns_stack_config *cfg))
{
        ns_test_env_init_cfg(env, mods, tweak);
        ns_test_add_nic(env, 1, 1500, LOCAL, 24);
        struct ns_route_entry def = { .dst = { NS_IP4_ANY, 0 }, .gateway = GATEWAY, .nic_id = 1 };
        assert_int_equal(ns_route_add(env->s, &def), 0);
        memset(udp, 0, sizeof(*udp));
        struct ns_transport_handler h = { .deliver = closed_deliver, .ctx = udp };
        assert_int_equal(ns__stack_register_transport(env->s, NS_IPV4_PROTO_UDP, &h), 0);
}

static void env_up(struct ns_test_env *env, struct closed_udp *udp)
{
        env_up_cfg(env, udp, NULL);
}

struct dgram {
        ns_ip4 src, dst;
        uint8_t proto;     /* 0: UDP */
        uint16_t len;      /* total length; 0: 20 + options + 8 + 12 */
        uint8_t flags;     /* NS_IPV4_FLAG_* */
        uint16_t frag_off; /* bytes */
        const uint8_t *opts;
        uint8_t opts_len;
        const uint8_t *body; /* the bytes after the header; NULL: a pattern */
        size_t body_len;
};

/* Builds the datagram into buf (at least d->len bytes); returns its length. */
static size_t build(uint8_t *buf, size_t cap, const struct dgram *d)
{
        size_t hlen = 20 + (((size_t)d->opts_len + 3) & ~(size_t)3);
        size_t len = d->len ? d->len : (d->body ? hlen + d->body_len : hlen + 20);
        assert_true(len <= cap);
        struct ns_ipv4_fields f = { .total_len = (uint16_t)len,
                                    .id = 0x1111,
                                    .flags = d->flags,
                                    .frag_off = d->frag_off,
                                    .ttl = 64,
                                    .proto = d->proto ? d->proto : NS_IPV4_PROTO_UDP,
                                    .src = d->src,
                                    .dst = d->dst,
                                    .options = d->opts,
                                    .options_len = d->opts_len };
        assert_int_equal(ns_ipv4_emit(buf, cap, &f), hlen);
        if (d->body) {
                memcpy(buf + hlen, d->body, d->body_len);
        } else {
                for (size_t i = hlen; i < len; i++)
                        buf[i] = (uint8_t)(i * 7);
                if (f.proto == NS_IPV4_PROTO_UDP && len >= hlen + 8) {
                        /* UDP 40000 -> 9, its length, no checksum (RFC 768). */
                        uint8_t *u = buf + hlen;
                        u[0] = 0x9c, u[1] = 0x40, u[2] = 0, u[3] = 9;
                        u[4] = (uint8_t)((len - hlen) >> 8), u[5] = (uint8_t)(len - hlen);
                        u[6] = u[7] = 0;
                }
        }
        return len;
}

static void inject_flags(struct ns_test_env *env, const uint8_t *buf, size_t len, uint32_t flags)
{
        struct ns_pkt *p = ns_pkt_from_bytes(ns_stack_pool(env->s), 64, buf, (uint32_t)len);
        assert_non_null(p);
        p->flags = flags;
        ns_channel_inject(env->ch[1], 0x0800, p);
}

static size_t send_dgram(struct ns_test_env *env, const struct dgram *d, uint8_t *buf, size_t cap)
{
        size_t n = build(buf, cap, d);
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, (uint32_t)n), 0);
        return n;
}

/* Reads one ICMP error to `to`, checks it, and returns it (caller frees). */
static struct ns_pkt *read_error(struct ns_test_env *env, ns_ip4 to, uint8_t type, uint8_t code)
{
        struct ns_pkt *r = ns_channel_read(env->ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
        assert_true(ns_ipv4_checksum_ok(h, ns_ipv4_hdr_len(h)));
        assert_int_equal(ns_ipv4_hdr_len(h), 20);
        assert_int_equal(ns_ipv4_proto(h), NS_IPV4_PROTO_ICMP);
        assert_int_equal(ns_ipv4_dst(h), to);
        assert_int_equal(ns_ipv4_src(h), LOCAL);
        assert_true(ns_icmp4_checksum_ok(h + 20, ns_pkt_len(r) - 20));
        assert_int_equal(ns_icmp4_type(h + 20), type);
        assert_int_equal(ns_icmp4_code(h + 20), code);
        return r;
}

static void expect_silence(struct ns_test_env *env)
{
        struct ns_pkt *r = ns_channel_read(env->ch[1]);
        if (r) {
                const uint8_t *h = ns_pkt_data(r);
                print_error("unexpected packet: proto %u, ICMP type %u\n", ns_ipv4_proto(h),
                            h[ns_ipv4_hdr_len(h)]);
                ns_pkt_free(r);
                fail();
        }
}

static struct ns_stats stats(struct ns_test_env *env)
{
        struct ns_stats st;
        ns_stack_get_stats(env->s, &st);
        return st;
}

/* ---- RFC 1122 3.2.2 / RFC 1812 4.3.2.7: when no error may be sent ---- */

struct never_row {
        const char *name;
        ns_ip4 src, dst;
        uint32_t flags;  /* packet flags as the link set them */
        bool delivered;  /* reaches the transport (else dropped at IP) */
        bool error;      /* the control row gets its Port Unreachable */
        bool bad_source; /* counted in invalid_source_addresses_received */
};

static const struct never_row never_rows[] = {
        /* RFC 1122 3.2.2.1: the control, a unicast datagram to a closed port. */
        { "unicast to a closed port", REMOTE, LOCAL, 0, true, true, false },
        { "destination limited broadcast", REMOTE, NS_IP4_BROADCAST, 0, true, false, false },
        { "destination subnet broadcast", REMOTE, SUBNET_BCAST, 0, true, false, false },
        { "destination multicast (joined group)", REMOTE, GROUP, 0, true, false, false },
        /* RFC 1122 3.2.2: "a datagram sent as a link-layer broadcast". */
        { "received as link-layer broadcast", REMOTE, LOCAL, NS_PKT_F_LINK_BCAST, true, false,
          false },
        /* RFC 1122 3.2.2: a source that does not define a single host. */
        { "source unspecified (accepted for DHCP)", NS_IP4_ANY, LOCAL, 0, true, false, false },
        { "source limited broadcast", NS_IP4_BROADCAST, LOCAL, 0, false, false, true },
        { "source subnet broadcast", SUBNET_BCAST, LOCAL, 0, false, false, true },
        { "source multicast", NS_IP4(224, 0, 0, 5), LOCAL, 0, false, false, true },
};

static void test_never_send_error(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(never_rows) / sizeof(never_rows[0]); i++) {
                const struct never_row *t = &never_rows[i];
                print_message("  %s\n", t->name);
                struct ns_test_env env;
                struct closed_udp udp;
                env_up(&env, &udp);
                assert_int_equal(ns_ipv4_join_group(env.s, 1, GROUP), 0);
                ns_test_drain_all(&env); /* IGMP reports of the join */
                uint8_t buf[128];
                size_t n = build(buf, sizeof(buf), &(struct dgram){ .src = t->src, .dst = t->dst });
                inject_flags(&env, buf, n, t->flags);
                assert_int_equal(udp.delivered, t->delivered ? 1 : 0);
                if (t->error) {
                        struct ns_pkt *r =
                            read_error(&env, t->src, NS_ICMP4_DEST_UNREACH, NS_ICMP4_PORT_UNREACH);
                        ns_pkt_free(r);
                } else {
                        expect_silence(&env);
                }
                struct ns_stats st = stats(&env);
                assert_int_equal(st.icmp.sent_dst_unreachable, t->error ? 1 : 0);
                assert_int_equal(st.ip.invalid_source_addresses_received, t->bad_source ? 1 : 0);
                /* A suppressed error is not a rate-limited or failed one. */
                assert_int_equal(st.icmp.sent_rate_limited, 0);
                assert_int_equal(st.icmp.sent_dropped, 0);
                assert_int_equal(ns_test_packets_in_use(&env), 0);
                ns_test_env_destroy(&env);
        }
}

/* Record Route with pointer 0: RFC 791 "the smallest legal value is 4". */
static const uint8_t bad_rr[8] = { 7, 8, 0, 0, 0, 0, 0, 0 };

/*
 * RFC 1122 3.2.2: never about a non-initial fragment. Options of a fragment
 * are verified before reassembly (the seed): a bad one in the first
 * fragment gets a Parameter Problem, in a later fragment only a drop.
 */
static void test_no_error_for_non_first_fragment(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct closed_udp udp;
        env_up(&env, &udp);
        uint8_t buf[128];
        size_t n = send_dgram(&env,
                              &(struct dgram){ .src = REMOTE,
                                               .dst = LOCAL,
                                               .len = 28 + 16,
                                               .frag_off = 64,
                                               .opts = bad_rr,
                                               .opts_len = sizeof(bad_rr) },
                              buf, sizeof(buf));
        (void)n;
        expect_silence(&env);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.ip.malformed_packets_received, 1);
        assert_int_equal(st.icmp.sent_param_problem, 0);

        /* The control: the same option in the first fragment. */
        n = send_dgram(&env,
                       &(struct dgram){ .src = REMOTE,
                                        .dst = LOCAL,
                                        .len = 28 + 16,
                                        .flags = NS_IPV4_FLAG_MF,
                                        .opts = bad_rr,
                                        .opts_len = sizeof(bad_rr) },
                       buf, sizeof(buf));
        struct ns_pkt *r = read_error(&env, REMOTE, NS_ICMP4_PARAM_PROBLEM, 0);
        const uint8_t *icmp = ns_pkt_data(r) + 20;
        assert_int_equal(ns_icmp4_pointer(icmp), 20 + 2);
        assert_int_equal(ns_pkt_len(r), 28 + n);
        assert_memory_equal(icmp + 8, buf, n);
        ns_pkt_free(r);
        st = stats(&env);
        assert_int_equal(st.ip.malformed_packets_received, 2);
        assert_int_equal(st.icmp.sent_param_problem, 1);
        assert_int_equal(udp.delivered, 0);
        ns_test_env_destroy(&env);
}

/* An ICMP message body: type, code, zero checksum filled later, rest, quote. */
static size_t icmp_body(uint8_t *out, uint8_t type, uint8_t code)
{
        uint8_t quote[28];
        struct ns_ipv4_fields f = { .total_len = 28,
                                    .ttl = 64,
                                    .proto = 253, /* RFC 3692 experimental: nobody's */
                                    .src = LOCAL,
                                    .dst = REMOTE };
        assert_int_equal(ns_ipv4_emit(quote, sizeof(quote), &f), 20);
        memset(quote + 20, 0xee, 8);
        return ns_icmp4_emit_error(out, 64, type, code, 0, quote, sizeof(quote));
}

/*
 * RFC 1122 3.2.2: "An ICMP error message MUST NOT be sent as the result of
 * receiving an ICMP error message". The first fragment of a Destination
 * Unreachable with a bad option, and its reassembly timing out, provoke
 * nothing; the same for an Echo Request gets the Parameter Problem and the
 * Time Exceeded (RFC 792).
 */
static void test_no_error_about_icmp_error(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                uint8_t type, code;
                bool error;
        } rows[] = {
                { "destination unreachable (bad protocol quoted)", NS_ICMP4_DEST_UNREACH,
                  NS_ICMP4_PROTO_UNREACH, false },
                { "time exceeded", NS_ICMP4_TIME_EXCEEDED, 0, false },
                { "parameter problem", NS_ICMP4_PARAM_PROBLEM, 0, false },
                { "redirect", NS_ICMP4_REDIRECT, 0, false },
                { "echo request (the control)", NS_ICMP4_ECHO, 0, true },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                print_message("  %s\n", rows[i].name);
                struct ns_test_env env;
                struct closed_udp udp;
                env_up(&env, &udp);
                uint8_t body[64];
                size_t bl = icmp_body(body, rows[i].type, rows[i].code);
                uint8_t buf[128];
                /* Unfragmented: taken, answered only by the nothing an error gets. */
                send_dgram(&env,
                           &(struct dgram){ .src = REMOTE,
                                            .dst = LOCAL,
                                            .proto = NS_IPV4_PROTO_ICMP,
                                            .body = body,
                                            .body_len = bl },
                           buf, sizeof(buf));
                if (rows[i].type == NS_ICMP4_ECHO)
                        ns_pkt_free(read_error(&env, REMOTE, NS_ICMP4_ECHO_REPLY, 0));
                expect_silence(&env);

                /* A first fragment with a bad option. */
                size_t n = send_dgram(&env,
                                      &(struct dgram){ .src = REMOTE,
                                                       .dst = LOCAL,
                                                       .proto = NS_IPV4_PROTO_ICMP,
                                                       .flags = NS_IPV4_FLAG_MF,
                                                       .opts = bad_rr,
                                                       .opts_len = sizeof(bad_rr),
                                                       .body = body,
                                                       .body_len = 32 },
                                      buf, sizeof(buf));
                if (rows[i].error) {
                        struct ns_pkt *r = read_error(&env, REMOTE, NS_ICMP4_PARAM_PROBLEM, 0);
                        assert_int_equal(ns_icmp4_pointer(ns_pkt_data(r) + 20), 22);
                        assert_memory_equal(ns_pkt_data(r) + 28, buf, n);
                        ns_pkt_free(r);
                }
                expect_silence(&env);

                /* A first fragment held until reassembly times out (30 s). */
                send_dgram(&env,
                           &(struct dgram){ .src = REMOTE,
                                            .dst = LOCAL,
                                            .proto = NS_IPV4_PROTO_ICMP,
                                            .flags = NS_IPV4_FLAG_MF,
                                            .body = body,
                                            .body_len = 32 },
                           buf, sizeof(buf));
                expect_silence(&env);
                ns_test_advance(&env, 31 * SEC);
                if (rows[i].error) {
                        struct ns_pkt *r = read_error(&env, REMOTE, NS_ICMP4_TIME_EXCEEDED, 1);
                        ns_pkt_free(r);
                }
                expect_silence(&env);
                struct ns_stats st = stats(&env);
                assert_int_equal(st.icmp.sent_param_problem, rows[i].error ? 1 : 0);
                assert_int_equal(st.icmp.sent_time_exceeded, rows[i].error ? 1 : 0);
                assert_int_equal(st.icmp.sent_dst_unreachable, 0);
                assert_int_equal(ns_test_packets_in_use(&env), 0);
                ns_test_env_destroy(&env);
        }
}

/* RFC 1122 3.2.2.1: an unknown protocol gets 3/2; an ICMP error never does. */
static void test_protocol_unreachable(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct closed_udp udp;
        env_up(&env, &udp);
        uint8_t buf[128];
        size_t n = send_dgram(&env, &(struct dgram){ .src = REMOTE, .dst = LOCAL, .proto = 253 },
                              buf, sizeof(buf));
        struct ns_pkt *r = read_error(&env, REMOTE, NS_ICMP4_DEST_UNREACH, NS_ICMP4_PROTO_UNREACH);
        assert_int_equal(ns_pkt_len(r), 28 + n);
        assert_memory_equal(ns_pkt_data(r) + 28, buf, n);
        ns_pkt_free(r);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.ip.unknown_protocol_received, 1);
        assert_int_equal(st.icmp.sent_dst_unreachable, 1);
        ns_test_env_destroy(&env);
}

/* ---- RFC 1812 4.3.2.3: at most 576 bytes (HOSTILE 57) ---- */

static void test_quote_truncated_at_576(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                uint16_t len;
                size_t want;
        } rows[] = {
                { "1400-byte datagram: 576 bytes, 548 quoted", 1400, 576 },
                { "549 bytes: one too many, 548 quoted", 549, 576 },
                { "548 bytes: quoted whole", 548, 576 },
                { "28 bytes (IP + UDP header): quoted whole, no padding", 28, 56 },
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                print_message("  %s\n", rows[i].name);
                struct ns_test_env env;
                struct closed_udp udp;
                env_up(&env, &udp);
                uint8_t buf[1400];
                size_t n = send_dgram(
                    &env, &(struct dgram){ .src = REMOTE, .dst = LOCAL, .len = rows[i].len }, buf,
                    sizeof(buf));
                struct ns_pkt *r =
                    read_error(&env, REMOTE, NS_ICMP4_DEST_UNREACH, NS_ICMP4_PORT_UNREACH);
                assert_int_equal(ns_pkt_len(r), rows[i].want);
                assert_int_equal(ns_ipv4_total_len(ns_pkt_data(r)), rows[i].want);
                size_t quoted = rows[i].want - 28;
                assert_true(quoted <= n);
                assert_memory_equal(ns_pkt_data(r) + 28, buf, quoted);
                /* Unused bytes 4..7 of a Port Unreachable are zero (RFC 792). */
                assert_int_equal(ns_icmp4_rest(ns_pkt_data(r) + 20), 0);
                ns_pkt_free(r);
                ns_test_env_destroy(&env);
        }
}

/* ---- rate limits (HOSTILE 65) ---- */

static void trigger(struct ns_test_env *env, ns_ip4 src, unsigned count)
{
        uint8_t buf[64];
        for (unsigned i = 0; i < count; i++)
                send_dgram(env, &(struct dgram){ .src = src, .dst = LOCAL }, buf, sizeof(buf));
}

static unsigned drain_errors(struct ns_test_env *env, ns_ip4 to)
{
        unsigned n = 0;
        struct ns_pkt *r;
        while ((r = ns_channel_read(env->ch[1]))) {
                const uint8_t *h = ns_pkt_data(r);
                assert_int_equal(h[20], NS_ICMP4_DEST_UNREACH);
                if (to != NS_IP4_ANY)
                        assert_int_equal(ns_ipv4_dst(h), to);
                ns_pkt_free(r);
                n++;
        }
        return n;
}

/* Linux icmpv4_xrlim_allow: a burst of 6, then 1 per second, per destination. */
static void test_rate_limit_one_destination(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct closed_udp udp;
        env_up(&env, &udp);
        trigger(&env, REMOTE, 200);
        assert_int_equal(udp.delivered, 200);
        assert_int_equal(drain_errors(&env, REMOTE), 6);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.icmp.sent_dst_unreachable, 6);
        assert_int_equal(st.icmp.sent_rate_limited, 194);
        assert_int_equal(st.icmp.sent_rate_limited_host, 194);
        assert_int_equal(st.icmp.sent_rate_limited_global, 0);

        /* Half a second earns nothing; a whole one earns exactly one. */
        ns_test_advance(&env, SEC / 2);
        trigger(&env, REMOTE, 10);
        assert_int_equal(drain_errors(&env, REMOTE), 0);
        ns_test_advance(&env, SEC / 2);
        trigger(&env, REMOTE, 10);
        assert_int_equal(drain_errors(&env, REMOTE), 1);
        /* Ten seconds refill the burst of 6, no more. */
        ns_test_advance(&env, 10 * SEC);
        trigger(&env, REMOTE, 10);
        assert_int_equal(drain_errors(&env, REMOTE), 6);
        st = stats(&env);
        assert_int_equal(st.icmp.sent_dst_unreachable, 13);
        assert_int_equal(st.icmp.sent_rate_limited_host, 194 + 10 + 9 + 4);

        /* Another destination is not held back by this one. */
        trigger(&env, NS_IP4(192, 168, 1, 2), 1);
        assert_int_equal(drain_errors(&env, NS_IP4(192, 168, 1, 2)), 1);
        ns_test_env_destroy(&env);
}

/*
 * Many destinations: each gets its burst until the global bucket (gVisor's
 * 1000/s, burst 50) runs out; then 1000 per second for everyone.
 */
static void test_rate_limit_many_destinations(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct closed_udp udp;
        env_up(&env, &udp);
        /* 25 destinations, 8 triggers each, all at one instant. */
        for (unsigned d = 0; d < 25; d++)
                trigger(&env, NS_IP4(10, 0, 0, 1 + d), 8);
        unsigned sent = drain_errors(&env, NS_IP4_ANY);
        assert_int_equal(sent, 50);
        struct ns_stats st = stats(&env);
        /* Destinations 1..8 had 6 each (48), the 9th 2 before the bucket ran dry. */
        assert_int_equal(st.icmp.sent_rate_limited_host, 8 * 2);
        assert_int_equal(st.icmp.sent_rate_limited_global, 200 - 50 - 16);
        assert_int_equal(st.icmp.sent_rate_limited, 200 - 50);

        /* 1 ms earns one global token: one more error to a fresh destination. */
        ns_test_advance(&env, SEC / 1000);
        trigger(&env, NS_IP4(10, 0, 1, 1), 3);
        assert_int_equal(drain_errors(&env, NS_IP4(10, 0, 1, 1)), 1);
        /* 10 ms: ten tokens, shared by fresh destinations. */
        ns_test_advance(&env, SEC / 100);
        for (unsigned d = 0; d < 20; d++)
                trigger(&env, NS_IP4(10, 0, 2, 1 + d), 1);
        assert_int_equal(drain_errors(&env, NS_IP4_ANY), 10);
        /* A second later, 1000 tokens but only the burst of 50 kept. */
        ns_test_advance(&env, SEC);
        for (unsigned d = 0; d < 100; d++)
                trigger(&env, NS_IP4(10, 0, 3, 1 + d), 1);
        assert_int_equal(drain_errors(&env, NS_IP4_ANY), 50);
        ns_test_env_destroy(&env);
}

/* Echo replies are never limited (Linux and gVisor), nor do they drain the buckets. */
static void test_echo_replies_not_limited(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct closed_udp udp;
        env_up(&env, &udp);
        uint8_t body[16];
        size_t bl = ns_icmp4_emit_echo(body, sizeof(body), NS_ICMP4_ECHO, 1, 1, NULL, 0);
        uint8_t buf[64];
        for (unsigned i = 0; i < 200; i++)
                send_dgram(&env,
                           &(struct dgram){ .src = REMOTE,
                                            .dst = LOCAL,
                                            .proto = NS_IPV4_PROTO_ICMP,
                                            .body = body,
                                            .body_len = bl },
                           buf, sizeof(buf));
        assert_int_equal(ns_channel_queued(env.ch[1]), 200);
        ns_test_drain_all(&env);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.icmp.sent_echo_reply, 200);
        assert_int_equal(st.icmp.sent_rate_limited, 0);
        /* The error buckets are still full. */
        trigger(&env, REMOTE, 10);
        assert_int_equal(drain_errors(&env, REMOTE), 6);
        ns_test_env_destroy(&env);
}

/* The limits come from the stack's configuration when given. */
static struct ns_icmp_ratelimit_config small_limits;

static void use_small_limits(struct ns_stack_config *cfg)
{
        ns__icmp_rl_config_default(&small_limits);
        small_limits.global_rate = 10;
        small_limits.global_burst = 5;
        small_limits.host_rate = 2;
        small_limits.host_burst = 2;
        small_limits.limit_echo_reply = true;
        cfg->icmp_ratelimit = &small_limits;
}

static void test_rate_limit_configured(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct closed_udp udp;
        env_up_cfg(&env, &udp, use_small_limits);
        trigger(&env, REMOTE, 10);
        assert_int_equal(drain_errors(&env, REMOTE), 2);
        /* Half a second at 2/s per destination: one more. */
        ns_test_advance(&env, SEC / 2);
        trigger(&env, REMOTE, 10);
        assert_int_equal(drain_errors(&env, REMOTE), 1);
        /* Two tokens of the global 5 are left (10/s refilled 5 in 0.5 s, capped). */
        for (unsigned d = 0; d < 10; d++)
                trigger(&env, NS_IP4(10, 0, 0, 1 + d), 1);
        assert_int_equal(drain_errors(&env, NS_IP4_ANY), 4);
        ns_test_env_destroy(&env);
}

/*
 * limit_echo_reply (off by default, like Linux's icmp_ratemask and gVisor):
 * when set, echo replies take global tokens too.
 */
static void test_echo_reply_limit_configured(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct closed_udp udp;
        env_up_cfg(&env, &udp, use_small_limits);
        uint8_t body[16], buf[64];
        size_t bl = ns_icmp4_emit_echo(body, sizeof(body), NS_ICMP4_ECHO, 1, 1, NULL, 0);
        for (unsigned i = 0; i < 10; i++)
                send_dgram(&env,
                           &(struct dgram){ .src = REMOTE,
                                            .dst = LOCAL,
                                            .proto = NS_IPV4_PROTO_ICMP,
                                            .body = body,
                                            .body_len = bl },
                           buf, sizeof(buf));
        assert_int_equal(ns_channel_queued(env.ch[1]), 5);
        ns_test_drain_all(&env);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.icmp.sent_echo_reply, 5);
        assert_int_equal(st.icmp.sent_rate_limited, 5);
        assert_int_equal(st.icmp.sent_rate_limited_global, 5);
        ns_test_env_destroy(&env);
}

static void use_bad_limits(struct ns_stack_config *cfg)
{
        ns__icmp_rl_config_default(&small_limits);
        small_limits.global_burst = 0; /* a rate with no depth */
        cfg->icmp_ratelimit = &small_limits;
}

static void test_rate_limit_config_invalid(void **state)
{
        (void)state;
        struct ns_manual_clock clock;
        struct ns_seeded_rng rng;
        ns_manual_clock_init(&clock, 0, NS_TEST_WALL_START_NS);
        ns_seeded_rng_init(&rng, 1);
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_manual_clock_as_clock(&clock);
        cfg.rng = ns_seeded_rng_as_rng(&rng);
        cfg.modules = mods;
        use_bad_limits(&cfg);
        struct ns_stack *s = NULL;
        assert_int_equal(ns_stack_create(&cfg, &s), NS_ERR_INVALID_ARGUMENT);
        assert_null(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_never_send_error),
                cmocka_unit_test(test_no_error_for_non_first_fragment),
                cmocka_unit_test(test_no_error_about_icmp_error),
                cmocka_unit_test(test_protocol_unreachable),
                cmocka_unit_test(test_quote_truncated_at_576),
                cmocka_unit_test(test_rate_limit_one_destination),
                cmocka_unit_test(test_rate_limit_many_destinations),
                cmocka_unit_test(test_echo_replies_not_limited),
                cmocka_unit_test(test_rate_limit_configured),
                cmocka_unit_test(test_rate_limit_config_invalid),
                cmocka_unit_test(test_echo_reply_limit_configured),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
