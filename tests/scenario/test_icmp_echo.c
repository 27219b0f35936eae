/*
 * ICMP messages this host receives, end to end through the IPv4 module:
 * echo (RFC 792, RFC 1122 3.2.2.6) with fresh IP IDs (RFC 6864), Smurf
 * protection for broadcast and multicast echo (Linux
 * icmp_echo_ignore_broadcasts; HOSTILE-INPUTS 59), timestamp (RFC 792
 * types 13/14), the errors a transport hears about (RFC 1122 3.2.2.1,
 * RFC 1191 next-hop MTU with Linux's 552-byte floor), and the malformed
 * shapes of HOSTILE-INPUTS F.55-64.
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include "core/stack.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define LOCAL        NS_IP4(192, 168, 1, 58)
#define REMOTE       NS_IP4(192, 168, 1, 1)
#define SUBNET_BCAST NS_IP4(192, 168, 1, 255)
#define GROUP        NS_IP4(239, 1, 2, 3)
/* 03:25:45.678 UT, in ms since midnight (RFC 792 timestamps). */
#define NOW_MS ((3u * 3600u + 25u * 60u + 45u) * 1000u + 678u)

/* A test UDP transport: takes every datagram and records every error. */
struct udp_spy {
        unsigned delivered;
        unsigned errors;
        struct ns_transport_error last;
        uint8_t transport[64];
};

static enum ns_deliver_result spy_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        (void)nic;
        ((struct udp_spy *)ctx)->delivered++;
        ns_pkt_free(pkt);
        return NS_DELIVER_HANDLED;
}

static void spy_error(void *ctx, struct ns_nic *nic, const struct ns_transport_error *err)
{
        (void)nic;
        struct udp_spy *spy = ctx;
        spy->errors++;
        spy->last = *err;
        /* Every byte the stack says it holds is read (ASan: exactly sized packets). */
        memset(spy->transport, 0, sizeof(spy->transport));
        for (uint32_t i = 0; i < err->transport_len; i++)
                spy->transport[i % sizeof(spy->transport)] ^= err->transport[i];
        spy->last.transport = NULL;
}

static void env_up(struct ns_test_env *env, struct udp_spy *spy)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, LOCAL, 24);
        env->clock.wall_ns += (int64_t)NOW_MS * 1000000;
        memset(spy, 0, sizeof(*spy));
        struct ns_transport_handler h = { .deliver = spy_deliver, .error = spy_error, .ctx = spy };
        assert_int_equal(ns__stack_register_transport(env->s, NS_IPV4_PROTO_UDP, &h), 0);
}

/* Wraps an ICMP message in an IPv4 header from src to dst. */
static size_t wrap(uint8_t *buf, ns_ip4 src, ns_ip4 dst, uint16_t ipid, uint8_t flags,
                   const uint8_t *icmp, size_t len)
{
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(20 + len),
                                    .id = ipid,
                                    .flags = flags,
                                    .ttl = 64,
                                    .proto = NS_IPV4_PROTO_ICMP,
                                    .src = src,
                                    .dst = dst };
        assert_int_equal(ns_ipv4_emit(buf, 20, &f), 20);
        memmove(buf + 20, icmp, len);
        return 20 + len;
}

static size_t echo(uint8_t *buf, ns_ip4 src, ns_ip4 dst, uint16_t ipid, uint8_t flags)
{
        uint8_t icmp[64];
        size_t n = ns_icmp4_emit_echo(icmp, sizeof(icmp), NS_ICMP4_ECHO, 0x77, 9,
                                      (const uint8_t *)"abcdefgh", 8);
        return wrap(buf, src, dst, ipid, flags, icmp, n);
}

/* Injects len bytes in a packet of exactly that size (ASan sees over-reads). */
static void inject(struct ns_test_env *env, const uint8_t *buf, size_t len)
{
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, (uint32_t)len), 0);
}

/* Reads the one reply and checks it is from `from` to REMOTE with good checksums. */
static struct ns_pkt *read_reply(struct ns_test_env *env, ns_ip4 from, uint8_t type)
{
        struct ns_pkt *r = ns_channel_read(env->ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
        assert_true(ns_ipv4_checksum_ok(h, ns_ipv4_hdr_len(h)));
        assert_int_equal(ns_ipv4_src(h), from);
        assert_int_equal(ns_ipv4_dst(h), REMOTE);
        size_t hl = ns_ipv4_hdr_len(h);
        /* HOSTILE 56: the checksum of every reply is recomputed. */
        assert_true(ns_icmp4_checksum_ok(h + hl, ns_pkt_len(r) - hl));
        assert_int_equal(ns_icmp4_type(h + hl), type);
        return r;
}

static struct ns_stats stats(struct ns_test_env *env)
{
        struct ns_stats st;
        ns_stack_get_stats(env->s, &st);
        return st;
}

/* ---- echo ---- */

/*
 * RFC 6864 4.3: the reply is a new datagram with its own ID from the
 * per-flow counter (never the request's), and DF clear whatever the request
 * said (the seed sets no flags).
 */
static void test_echo_reply_fresh_id_df_clear(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct udp_spy spy;
        env_up(&env, &spy);
        uint8_t buf[128];
        uint16_t prev = 0;
        for (unsigned i = 0; i < 4; i++) {
                uint16_t req_id = (uint16_t)(0x2000 + i);
                inject(&env, buf, echo(buf, REMOTE, LOCAL, req_id, NS_IPV4_FLAG_DF));
                struct ns_pkt *r = read_reply(&env, LOCAL, NS_ICMP4_ECHO_REPLY);
                const uint8_t *h = ns_pkt_data(r);
                assert_int_not_equal(ns_ipv4_id(h), req_id);
                assert_false(ns_ipv4_df(h));
                assert_false(ns_ipv4_mf(h));
                assert_int_equal(ns_ipv4_frag_off(h), 0);
                assert_int_equal(ns_ipv4_ttl(h), 64);
                /* One flow, one counter: consecutive IDs. */
                if (i > 0)
                        assert_int_equal(ns_ipv4_id(h), (uint16_t)(prev + 1));
                prev = ns_ipv4_id(h);
                assert_int_equal(ns_icmp4_id(h + 20), 0x77);
                assert_int_equal(ns_icmp4_seq(h + 20), 9);
                assert_memory_equal(h + 28, "abcdefgh", 8);
                ns_pkt_free(r);
        }
        ns_test_env_destroy(&env);
}

/*
 * HOSTILE 64: the reply is built in a new buffer; a clone of the request
 * (what a raw socket or a capture would hold) is never written. HOSTILE 3 /
 * 62: link padding past Total Length is not echoed.
 */
static void test_echo_reply_new_buffer_no_padding(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct udp_spy spy;
        env_up(&env, &spy);
        uint8_t buf[128];
        size_t n = echo(buf, REMOTE, LOCAL, 1, 0);
        memset(buf + n, 0xab, 10); /* Ethernet-style padding */
        struct ns_pkt *p = ns_pkt_from_bytes(ns_stack_pool(env.s), 64, buf, (uint32_t)n + 10);
        assert_non_null(p);
        struct ns_pkt *keep = ns_pkt_clone(p);
        assert_non_null(keep);
        ns_channel_inject(env.ch[1], 0x0800, p);
        struct ns_pkt *r = read_reply(&env, LOCAL, NS_ICMP4_ECHO_REPLY);
        assert_int_equal(ns_pkt_len(r), n);
        assert_int_equal(ns_pkt_len(keep), n + 10);
        assert_memory_equal(ns_pkt_data(keep), buf, n + 10);
        ns_pkt_free(r);
        ns_pkt_free(keep);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

struct bcast_row {
        const char *name;
        ns_ip4 dst;
        uint32_t flags;
};

static const struct bcast_row bcast_rows[] = {
        { "limited broadcast", NS_IP4_BROADCAST, 0 },
        { "subnet broadcast", SUBNET_BCAST, 0 },
        { "joined multicast group", GROUP, 0 },
        { "all-systems group", NS_IP4(224, 0, 0, 1), 0 },
};

/*
 * HOSTILE 59: no Smurf amplification by default; with the parameter off
 * the reply comes from our unicast address (RFC 1122 3.2.2.6, 3.2.1.3).
 */
static void test_broadcast_echo(void **state)
{
        (void)state;
        for (int answer = 0; answer <= 1; answer++) {
                for (size_t i = 0; i < sizeof(bcast_rows) / sizeof(bcast_rows[0]); i++) {
                        const struct bcast_row *t = &bcast_rows[i];
                        print_message("  %s, %s\n", t->name, answer ? "answered" : "ignored");
                        struct ns_test_env env;
                        struct udp_spy spy;
                        env_up(&env, &spy);
                        assert_int_equal(ns_ipv4_join_group(env.s, 1, GROUP), 0);
                        int64_t v = -1;
                        assert_int_equal(
                            ns_ipv4_get_param(env.s, NS_IPV4_PARAM_ECHO_IGNORE_BROADCASTS, &v), 0);
                        assert_int_equal(v, 1);
                        if (answer)
                                assert_int_equal(
                                    ns_ipv4_set_param(env.s, NS_IPV4_PARAM_ECHO_IGNORE_BROADCASTS,
                                                      0),
                                    0);
                        ns_test_drain_all(&env);
                        uint8_t buf[128];
                        inject(&env, buf, echo(buf, REMOTE, t->dst, 5, 0));
                        if (answer) {
                                struct ns_pkt *r = read_reply(&env, LOCAL, NS_ICMP4_ECHO_REPLY);
                                ns_pkt_free(r);
                        }
                        assert_null(ns_channel_read(env.ch[1]));
                        struct ns_stats st = stats(&env);
                        assert_int_equal(st.icmp.received_echo_request, 1);
                        assert_int_equal(st.icmp.sent_echo_reply, answer ? 1 : 0);
                        ns_test_env_destroy(&env);
                }
        }
}

/* ---- timestamp (RFC 792 types 13 and 14) ---- */

static size_t timestamp_req(uint8_t *buf, size_t icmp_len)
{
        uint8_t icmp[32] = { NS_ICMP4_TIMESTAMP, 0, 0, 0, 0x12, 0x34, 0, 7 };
        ns_icmp4_set_originate_ts(icmp, 0x01020304);
        ns_icmp4_set_receive_ts(icmp, 0xdeadbeef);
        ns_icmp4_set_transmit_ts(icmp, 0xcafef00d);
        ns_icmp4_fill_checksum(icmp, icmp_len);
        return wrap(buf, REMOTE, LOCAL, 3, 0, icmp, icmp_len);
}

static void test_timestamp_reply(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct udp_spy spy;
        env_up(&env, &spy);
        uint8_t buf[128];
        inject(&env, buf, timestamp_req(buf, 20));
        struct ns_pkt *r = read_reply(&env, LOCAL, NS_ICMP4_TIMESTAMP_REPLY);
        const uint8_t *icmp = ns_pkt_data(r) + 20;
        assert_int_equal(ns_pkt_len(r), 40);
        assert_int_equal(ns_icmp4_code(icmp), 0);
        assert_int_equal(ns_icmp4_id(icmp), 0x1234);
        assert_int_equal(ns_icmp4_seq(icmp), 7);
        assert_int_equal(ns_icmp4_originate_ts(icmp), 0x01020304);
        assert_int_equal(ns_icmp4_receive_ts(icmp), NOW_MS);
        assert_int_equal(ns_icmp4_transmit_ts(icmp), NOW_MS);
        ns_pkt_free(r);
        /* The clock moves: 2.5 s later. */
        ns_test_advance(&env, 2500LL * 1000000);
        inject(&env, buf, timestamp_req(buf, 20));
        r = read_reply(&env, LOCAL, NS_ICMP4_TIMESTAMP_REPLY);
        assert_int_equal(ns_icmp4_receive_ts(ns_pkt_data(r) + 20), NOW_MS + 2500);
        ns_pkt_free(r);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.icmp.received_timestamp, 2);
        assert_int_equal(st.icmp.sent_timestamp_reply, 2);
        ns_test_env_destroy(&env);
}

/* A timestamp request needs its three timestamps: 20 bytes (RFC 792). */
static void test_short_timestamp_invalid(void **state)
{
        (void)state;
        static const size_t lens[] = { 8, 12, 16, 19 };
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
                print_message("  %zu-byte timestamp request\n", lens[i]);
                struct ns_test_env env;
                struct udp_spy spy;
                env_up(&env, &spy);
                uint8_t buf[128];
                inject(&env, buf, timestamp_req(buf, lens[i]));
                assert_null(ns_channel_read(env.ch[1]));
                struct ns_stats st = stats(&env);
                assert_int_equal(st.icmp.received_timestamp, 1);
                assert_int_equal(st.icmp.received_invalid, 1);
                assert_int_equal(st.icmp.sent_timestamp_reply, 0);
                assert_int_equal(ns_test_packets_in_use(&env), 0);
                ns_test_env_destroy(&env);
        }
}

/* ---- malformed ICMP (HOSTILE 55) ---- */

static void test_short_and_bad_checksum(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct udp_spy spy;
        env_up(&env, &spy);
        uint8_t buf[128];
        /* 0..7 bytes of ICMP: echo type, the rest cut. */
        for (size_t len = 0; len < 8; len++) {
                uint8_t icmp[8] = { NS_ICMP4_ECHO, 0, 0xf7, 0xff, 0, 0, 0, 0 };
                inject(&env, buf, wrap(buf, REMOTE, LOCAL, 1, 0, icmp, len));
        }
        struct ns_stats st = stats(&env);
        assert_int_equal(st.icmp.received_total, 8);
        assert_int_equal(st.icmp.received_invalid, 8);
        assert_int_equal(st.icmp.received_checksum_errors, 0);
        assert_int_equal(st.icmp.received_echo_request, 0);
        /* Bad checksums on an echo request, a timestamp request and an error. */
        size_t n = echo(buf, REMOTE, LOCAL, 1, 0);
        buf[n - 1] ^= 1;
        inject(&env, buf, n);
        n = timestamp_req(buf, 20);
        buf[n - 1] ^= 1;
        inject(&env, buf, n);
        uint8_t err[64];
        uint8_t quote[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17 };
        size_t el = ns_icmp4_emit_error(err, sizeof(err), NS_ICMP4_DEST_UNREACH,
                                        NS_ICMP4_PORT_UNREACH, 0, quote, sizeof(quote));
        err[2] ^= 0x10;
        inject(&env, buf, wrap(buf, REMOTE, LOCAL, 1, 0, err, el));
        assert_null(ns_channel_read(env.ch[1]));
        assert_int_equal(spy.errors, 0);
        st = stats(&env);
        assert_int_equal(st.icmp.received_invalid, 8 + 3);
        assert_int_equal(st.icmp.received_checksum_errors, 3);
        assert_int_equal(st.icmp.sent_total, 0);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

/* ---- errors about what we sent, for the transport (RFC 1122 3.2.2.1) ---- */

/* An ICMP error quoting a UDP datagram LOCAL:40000 -> REMOTE:53. */
static size_t udp_error(uint8_t *buf, uint8_t type, uint8_t code, uint16_t mtu,
                        const uint8_t *quote, size_t qlen)
{
        uint8_t icmp[128];
        uint32_t rest = type == NS_ICMP4_DEST_UNREACH && code == NS_ICMP4_FRAG_NEEDED
                            ? ns_icmp4_rest_mtu(mtu)
                            : 0;
        size_t n = ns_icmp4_emit_error(icmp, sizeof(icmp), type, code, rest, quote, qlen);
        assert_int_not_equal(n, 0);
        return wrap(buf, REMOTE, LOCAL, 9, 0, icmp, n);
}

/* The start of a UDP datagram we sent, into q (80 bytes). */
static size_t quoted_udp(uint8_t *q, uint8_t ihl_words, uint16_t frag_off, uint8_t proto)
{
        memset(q, 0, 80);
        q[0] = (uint8_t)(0x40 | ihl_words);
        ns_ipv4_set_total_len(q, 1400);
        ns_ipv4_set_flags_frag_off(q, 0, frag_off);
        q[8] = 64;
        q[9] = proto;
        ns_ipv4_set_src(q, LOCAL);
        ns_ipv4_set_dst(q, REMOTE);
        ns_ipv4_fill_checksum(q);
        size_t hl = (size_t)ihl_words * 4;
        q[hl] = 0x9c, q[hl + 1] = 0x40, q[hl + 2] = 0, q[hl + 3] = 53;
        q[hl + 4] = 0x05, q[hl + 5] = 0x64;
        return hl + 8;
}

struct terr_row {
        const char *name;
        uint8_t type, code;
        uint16_t mtu_in;
        uint32_t mtu_want;
};

static const struct terr_row terr_rows[] = {
        { "host unreachable", NS_ICMP4_DEST_UNREACH, NS_ICMP4_HOST_UNREACH, 0, 0 },
        { "port unreachable", NS_ICMP4_DEST_UNREACH, NS_ICMP4_PORT_UNREACH, 0, 0 },
        { "protocol unreachable", NS_ICMP4_DEST_UNREACH, NS_ICMP4_PROTO_UNREACH, 0, 0 },
        /* RFC 1191: the next-hop MTU. */
        { "fragmentation needed, MTU 1280", NS_ICMP4_DEST_UNREACH, NS_ICMP4_FRAG_NEEDED, 1280,
          1280 },
        /* HOSTILE 61: Linux floors PMTU at min_pmtu, 552. */
        { "fragmentation needed, MTU 100 (floored)", NS_ICMP4_DEST_UNREACH, NS_ICMP4_FRAG_NEEDED,
          100, 552 },
        { "fragmentation needed, MTU 0 (floored)", NS_ICMP4_DEST_UNREACH, NS_ICMP4_FRAG_NEEDED, 0,
          552 },
        { "fragmentation needed, MTU 552", NS_ICMP4_DEST_UNREACH, NS_ICMP4_FRAG_NEEDED, 552, 552 },
        { "time exceeded in transit", NS_ICMP4_TIME_EXCEEDED, 0, 0, 0 },
        { "parameter problem", NS_ICMP4_PARAM_PROBLEM, 0, 0, 0 },
};

static void test_errors_reach_transport(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(terr_rows) / sizeof(terr_rows[0]); i++) {
                const struct terr_row *t = &terr_rows[i];
                print_message("  %s\n", t->name);
                struct ns_test_env env;
                struct udp_spy spy;
                env_up(&env, &spy);
                uint8_t q[80], buf[256];
                size_t ql = quoted_udp(q, 5, 0, NS_IPV4_PROTO_UDP);
                inject(&env, buf, udp_error(buf, t->type, t->code, t->mtu_in, q, ql));
                assert_int_equal(spy.errors, 1);
                assert_int_equal(spy.last.icmp_type, t->type);
                assert_int_equal(spy.last.icmp_code, t->code);
                assert_int_equal(spy.last.mtu, t->mtu_want);
                assert_int_equal(spy.last.from, REMOTE);
                assert_int_equal(spy.last.src, LOCAL);
                assert_int_equal(spy.last.dst, REMOTE);
                assert_int_equal(spy.last.proto, NS_IPV4_PROTO_UDP);
                assert_int_equal(spy.last.transport_len, 8);
                /* An error is never answered (RFC 1122 3.2.2). */
                assert_null(ns_channel_read(env.ch[1]));
                ns_test_env_destroy(&env);
        }
}

/*
 * Quotes that must not reach the transport: a non-first fragment has no
 * transport header (HOSTILE 37); a quoted IHL longer than the bytes held,
 * a quote shorter than an IP header, or a version other than 4 is never
 * read past (HOSTILE 61, 62); an inner protocol nobody registered is
 * ignored (HOSTILE 60).
 */
static void test_errors_not_for_transport(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct udp_spy spy;
        env_up(&env, &spy);
        uint8_t q[80], buf[256];
        size_t ql;

        ql = quoted_udp(q, 5, 1480, NS_IPV4_PROTO_UDP);
        inject(&env, buf, udp_error(buf, 3, 3, 0, q, ql));
        /* IHL 15 (60 bytes) with 28 bytes quoted. */
        quoted_udp(q, 15, 0, NS_IPV4_PROTO_UDP);
        inject(&env, buf, udp_error(buf, 3, 3, 0, q, 28));
        /* IHL 6 (24 bytes) with 22 quoted. */
        quoted_udp(q, 6, 0, NS_IPV4_PROTO_UDP);
        inject(&env, buf, udp_error(buf, 3, 4, 1000, q, 22));
        /* Only 19 bytes of IP header. */
        ql = quoted_udp(q, 5, 0, NS_IPV4_PROTO_UDP);
        inject(&env, buf, udp_error(buf, 3, 3, 0, q, 19));
        /* IHL below 5. */
        ql = quoted_udp(q, 5, 0, NS_IPV4_PROTO_UDP);
        q[0] = 0x44;
        inject(&env, buf, udp_error(buf, 3, 3, 0, q, ql));
        /* Version 6. */
        ql = quoted_udp(q, 5, 0, NS_IPV4_PROTO_UDP);
        q[0] = 0x65;
        inject(&env, buf, udp_error(buf, 3, 3, 0, q, ql));
        /* Protocols with no handler: 253, and IP-in-IP (HOSTILE 37b). */
        ql = quoted_udp(q, 5, 0, 253);
        inject(&env, buf, udp_error(buf, 3, 4, 576, q, ql));
        ql = quoted_udp(q, 5, 0, 4);
        inject(&env, buf, udp_error(buf, 3, 3, 0, q, ql));
        assert_int_equal(spy.errors, 0);
        assert_null(ns_channel_read(env.ch[1]));
        struct ns_stats st = stats(&env);
        assert_int_equal(st.icmp.received_dst_unreachable, 8);
        assert_int_equal(ns_test_packets_in_use(&env), 0);

        /* The exact-size edges that are fine: IHL 6 with its 24 bytes, no transport bytes. */
        quoted_udp(q, 6, 0, NS_IPV4_PROTO_UDP);
        inject(&env, buf, udp_error(buf, 3, 3, 0, q, 24));
        assert_int_equal(spy.errors, 1);
        assert_int_equal(spy.last.transport_len, 0);
        /* A long quote: all of it handed up, nothing beyond. */
        ql = quoted_udp(q, 5, 0, NS_IPV4_PROTO_UDP);
        inject(&env, buf, udp_error(buf, 3, 3, 0, q, 64));
        assert_int_equal(spy.errors, 2);
        assert_int_equal(spy.last.transport_len, 64 - 20);
        ns_test_env_destroy(&env);
}

/* Types nobody asks for are counted and dropped, never answered (HOSTILE 61). */
static void test_other_types_counted(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct udp_spy spy;
        env_up(&env, &spy);
        static const uint8_t types[] = { NS_ICMP4_ADDR_MASK_REPLY, NS_ICMP4_ADDR_MASK,
                                         NS_ICMP4_INFO_REQUEST,    NS_ICMP4_REDIRECT,
                                         NS_ICMP4_SOURCE_QUENCH,   42,
                                         NS_ICMP4_ECHO_REPLY,      NS_ICMP4_TIMESTAMP_REPLY };
        uint8_t buf[128];
        for (size_t i = 0; i < sizeof(types); i++) {
                uint8_t icmp[20] = { types[i] };
                ns_icmp4_fill_checksum(icmp, sizeof(icmp));
                inject(&env, buf, wrap(buf, REMOTE, LOCAL, 1, 0, icmp, sizeof(icmp)));
        }
        assert_null(ns_channel_read(env.ch[1]));
        struct ns_stats st = stats(&env);
        assert_int_equal(st.icmp.received_total, sizeof(types));
        assert_int_equal(st.icmp.received_addr_mask_reply, 1);
        assert_int_equal(st.icmp.received_addr_mask_request, 1);
        assert_int_equal(st.icmp.received_unknown_type, 1);
        assert_int_equal(st.icmp.received_invalid, 0);
        assert_int_equal(st.icmp.sent_total, 0);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

/* HOSTILE 63: an echo flood while UDP flows; everyone served, nothing held. */
static void test_echo_flood_with_udp(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct udp_spy spy;
        env_up(&env, &spy);
        uint8_t buf[128];
        uint8_t udp[36];
        struct ns_ipv4_fields f = {
                .total_len = 36, .ttl = 64, .proto = NS_IPV4_PROTO_UDP, .src = REMOTE, .dst = LOCAL
        };
        assert_int_equal(ns_ipv4_emit(udp, 20, &f), 20);
        memset(udp + 20, 0, 16);
        udp[25] = 16;
        for (unsigned i = 0; i < 1000; i++) {
                inject(&env, buf, echo(buf, REMOTE, LOCAL, (uint16_t)i, 0));
                inject(&env, udp, sizeof(udp));
                if (i % 100 == 99) {
                        assert_int_equal(ns_channel_queued(env.ch[1]), 100);
                        ns_test_drain_all(&env);
                }
        }
        assert_int_equal(spy.delivered, 1000);
        struct ns_stats st = stats(&env);
        assert_int_equal(st.icmp.sent_echo_reply, 1000);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_echo_reply_fresh_id_df_clear),
                cmocka_unit_test(test_echo_reply_new_buffer_no_padding),
                cmocka_unit_test(test_broadcast_echo),
                cmocka_unit_test(test_timestamp_reply),
                cmocka_unit_test(test_short_timestamp_invalid),
                cmocka_unit_test(test_short_and_bad_checksum),
                cmocka_unit_test(test_errors_reach_transport),
                cmocka_unit_test(test_errors_not_for_transport),
                cmocka_unit_test(test_other_types_counted),
                cmocka_unit_test(test_echo_flood_with_udp),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
