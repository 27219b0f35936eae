/*
 * IPv4 options on datagrams for a transport (the seed's optionUsageReceive,
 * RFC 791 3.1) and on fragments (optionUsageVerify before reassembly),
 * end to end through the IPv4 module with a test UDP transport that keeps
 * the header it was handed: Record Route and Timestamp recorded in place,
 * unknown options passed, bad options answered with a Parameter Problem
 * (RFC 792, RFC 1122 3.2.2.5) and never delivered; and a forwarded datagram
 * recording its route (HOSTILE-INPUTS 22).
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include "core/stack.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define LOCAL      NS_IP4(192, 168, 1, 58)
#define REMOTE     NS_IP4(192, 168, 1, 1)
#define TS_MS      0x00ad1c40u
#define TIME_BYTES 0x00, 0xad, 0x1c, 0x40
#define ADDR_BYTES 192, 168, 1, 58

/* A UDP transport that keeps the network header of what it took. */
struct keeper {
        unsigned delivered;
        uint8_t hdr[60];
        size_t hdr_len;
        size_t payload_len;
};

static enum ns_deliver_result keep_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        (void)nic;
        struct keeper *k = ctx;
        const uint8_t *h = ns_pkt_network_header(pkt);
        k->delivered++;
        k->hdr_len = ns_ipv4_hdr_len(h);
        memcpy(k->hdr, h, k->hdr_len);
        k->payload_len = ns_pkt_len(pkt);
        ns_pkt_free(pkt);
        return NS_DELIVER_HANDLED;
}

static void env_up(struct ns_test_env *env, struct keeper *k)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, LOCAL, 24);
        env->clock.wall_ns += (int64_t)TS_MS * 1000000;
        memset(k, 0, sizeof(*k));
        struct ns_transport_handler h = { .deliver = keep_deliver, .ctx = k };
        assert_int_equal(ns__stack_register_transport(env->s, NS_IPV4_PROTO_UDP, &h), 0);
}

/* A UDP datagram REMOTE -> dst with the options and 16 payload bytes. */
static size_t build_udp(uint8_t *buf, ns_ip4 src, ns_ip4 dst, const uint8_t *opts, size_t opts_len,
                        uint8_t flags, uint16_t frag_off, size_t payload)
{
        size_t hlen = 20 + ((opts_len + 3) & ~(size_t)3);
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(hlen + payload),
                                    .id = 0x3333,
                                    .flags = flags,
                                    .frag_off = frag_off,
                                    .ttl = 64,
                                    .proto = NS_IPV4_PROTO_UDP,
                                    .src = src,
                                    .dst = dst,
                                    .options = opts,
                                    .options_len = (uint8_t)opts_len };
        assert_int_equal(ns_ipv4_emit(buf, hlen, &f), hlen);
        for (size_t i = 0; i < payload; i++)
                buf[hlen + i] = (uint8_t)i;
        if (frag_off == 0) {
                /* UDP 40000 -> 9, length of the whole datagram's payload, no checksum. */
                buf[hlen] = 0x9c, buf[hlen + 1] = 0x40, buf[hlen + 2] = 0, buf[hlen + 3] = 9;
                buf[hlen + 4] = 0, buf[hlen + 5] = (uint8_t)payload, buf[hlen + 6] = 0,
                           buf[hlen + 7] = 0;
        }
        return hlen + payload;
}

static void inject(struct ns_test_env *env, uint32_t nic, const uint8_t *buf, size_t len)
{
        assert_int_equal(ns_channel_inject_bytes(env->ch[nic], 0x0800, buf, (uint32_t)len), 0);
}

struct rx_row {
        const char *name;
        uint8_t in[40];
        size_t in_len;
        bool ok;
        uint8_t want[40]; /* the option area the transport sees (same length) */
        uint8_t ptr;
};

#define IN(...)   .in = { __VA_ARGS__ }, .in_len = sizeof((const uint8_t[]){ __VA_ARGS__ })
#define SEES(...) .ok = true, .want = { __VA_ARGS__ }
#define FAIL(p)   .ok = false, .ptr = (p)

static const struct rx_row rx_rows[] = {
        { "record route with room", IN(7, 7, 4, 0, 0, 0, 0, 0), SEES(7, 7, 8, ADDR_BYTES, 0) },
        { "record route full: passed unrecorded", IN(7, 7, 8, 1, 2, 3, 4, 0),
          SEES(7, 7, 8, 1, 2, 3, 4, 0) },
        { "timestamp only", IN(68, 8, 5, 0, 0, 0, 0, 0), SEES(68, 8, 9, 0, TIME_BYTES) },
        { "timestamp and address", IN(68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0),
          SEES(68, 12, 13, 1, ADDR_BYTES, TIME_BYTES) },
        { "timestamp overflow", IN(68, 8, 9, 0x00, 1, 2, 3, 4), SEES(68, 8, 9, 0x10, 1, 2, 3, 4) },
        /* The receive usage passes options it does not know (the seed). */
        { "unknown option passed", IN(10, 4, 9, 0), SEES(10, 4, 9, 0) },
        { "router alert passed", IN(148, 4, 0, 0), SEES(148, 4, 0, 0) },
        { "padding after EOL zeroed", IN(1, 0, 10, 3), SEES(1, 0, 0, 0) },
        { "timestamp overflow full", IN(68, 12, 13, 0xf1, 192, 168, 1, 12, 1, 2, 3, 4),
          FAIL(20 + 3) },
        { "no length", IN(1, 1, 1, 68), FAIL(20 + 3) },
        { "length 0", IN(68, 0, 9, 0, 1, 2, 3, 4), FAIL(20) },
        { "length big", IN(7, 9, 4, 0, 1, 2, 3, 4), FAIL(20) },
        { "record route pointer too small", IN(7, 8, 3, 0, 0, 0, 0, 0), FAIL(20 + 2) },
        { "timestamp pointer too small", IN(68, 8, 4, 0x00, 0, 0, 0, 0), FAIL(20 + 2) },
        { "duplicate timestamp", IN(68, 4, 5, 0, 68, 4, 5, 0), FAIL(20 + 4) },
};

static void test_receive_options(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(rx_rows) / sizeof(rx_rows[0]); i++) {
                const struct rx_row *t = &rx_rows[i];
                print_message("  %s\n", t->name);
                struct ns_test_env env;
                struct keeper k;
                env_up(&env, &k);
                uint8_t buf[128];
                size_t n = build_udp(buf, REMOTE, LOCAL, t->in, t->in_len, 0, 0, 16);
                inject(&env, 1, buf, n);
                struct ns_stats st;
                ns_stack_get_stats(env.s, &st);
                if (t->ok) {
                        assert_int_equal(k.delivered, 1);
                        assert_int_equal(k.hdr_len, 20 + t->in_len);
                        assert_memory_equal(k.hdr + 20, t->want, t->in_len);
                        /* The header stays valid after the rewrite (HOSTILE 19). */
                        assert_true(ns_ipv4_checksum_ok(k.hdr, k.hdr_len));
                        assert_int_equal(ns_ipv4_total_len(k.hdr), n);
                        assert_int_equal(k.payload_len, 16);
                        assert_null(ns_channel_read(env.ch[1]));
                        assert_int_equal(st.ip.malformed_packets_received, 0);
                } else {
                        assert_int_equal(k.delivered, 0);
                        struct ns_pkt *r = ns_channel_read(env.ch[1]);
                        assert_non_null(r);
                        const uint8_t *h = ns_pkt_data(r);
                        assert_int_equal(ns_ipv4_dst(h), REMOTE);
                        assert_int_equal(ns_icmp4_type(h + 20), NS_ICMP4_PARAM_PROBLEM);
                        assert_int_equal(ns_icmp4_pointer(h + 20), t->ptr);
                        assert_true(ns_icmp4_checksum_ok(h + 20, ns_pkt_len(r) - 20));
                        /* The quote is the datagram as it arrived. */
                        assert_int_equal(ns_pkt_len(r), 28 + n);
                        assert_memory_equal(h + 28, buf, n);
                        ns_pkt_free(r);
                        assert_int_equal(st.ip.malformed_packets_received, 1);
                        assert_int_equal(st.icmp.sent_param_problem, 1);
                }
                assert_int_equal(ns_test_packets_in_use(&env), 0);
                ns_test_env_destroy(&env);
        }
}

/*
 * Options of fragments are verified, not processed, before reassembly
 * (the seed's optionUsageVerify); the reassembled datagram's are processed
 * once, so Record Route gets exactly one entry.
 */
static void test_fragment_options_recorded_once(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct keeper k;
        env_up(&env, &k);
        static const uint8_t rr[8] = { 7, 7, 4, 0, 0, 0, 0, 0 };
        uint8_t buf[128];
        /* 24 + 16 payload bytes in the first fragment, 8 more in the last. */
        size_t n = build_udp(buf, REMOTE, LOCAL, rr, sizeof(rr), NS_IPV4_FLAG_MF, 0, 16);
        buf[28 + 5] = 24; /* UDP length of the whole datagram */
        ns_ipv4_fill_checksum(buf);
        inject(&env, 1, buf, n);
        assert_int_equal(k.delivered, 0);
        n = build_udp(buf, REMOTE, LOCAL, NULL, 0, 0, 16, 8);
        inject(&env, 1, buf, n);
        assert_int_equal(k.delivered, 1);
        static const uint8_t want[8] = { 7, 7, 8, ADDR_BYTES, 0 };
        assert_int_equal(k.hdr_len, 28);
        assert_memory_equal(k.hdr + 20, want, 8);
        assert_true(ns_ipv4_checksum_ok(k.hdr, k.hdr_len));
        assert_int_equal(k.payload_len, 24);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        /* Seen once in the fragment (verify) and once after reassembly. */
        assert_int_equal(st.ip.option_record_route_received, 2);
        ns_test_env_destroy(&env);
}

/*
 * HOSTILE 22: a forwarded datagram records a route entry and keeps a valid
 * header. The seed records the ingress NIC's main address (gVisor issue
 * 4586); RFC 791 and Linux record the egress interface's, so only "one of
 * ours" is asserted here.
 */
static void test_forwarded_record_route(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct keeper k;
        env_up(&env, &k);
        ns_test_add_nic(&env, 2, 1500, NS_IP4(10, 0, 0, 1), 24);
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_FORWARDING, 1), 0);
        static const uint8_t rr[12] = { 7, 11, 4 };
        uint8_t buf[128];
        size_t n = build_udp(buf, REMOTE, NS_IP4(10, 0, 0, 2), rr, sizeof(rr), 0, 0, 16);
        inject(&env, 1, buf, n);
        struct ns_pkt *r = ns_channel_read(env.ch[2]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_pkt_len(r), n);
        assert_true(ns_ipv4_checksum_ok(h, ns_ipv4_hdr_len(h)));
        assert_int_equal(ns_ipv4_ttl(h), 63);
        assert_int_equal(h[22], 8);
        ns_ip4 rec = (ns_ip4)h[23] << 24 | (ns_ip4)h[24] << 16 | (ns_ip4)h[25] << 8 | h[26];
        assert_true(rec == LOCAL || rec == NS_IP4(10, 0, 0, 1));
        assert_memory_equal(h + 27, (const uint8_t[5]){ 0 }, 5);
        assert_memory_equal(h + 32, buf + 32, n - 32);
        ns_pkt_free(r);

        /* A bad option on the way through: Parameter Problem back to the sender. */
        static const uint8_t bad[8] = { 7, 8, 0 };
        n = build_udp(buf, REMOTE, NS_IP4(10, 0, 0, 2), bad, sizeof(bad), 0, 0, 16);
        inject(&env, 1, buf, n);
        assert_null(ns_channel_read(env.ch[2]));
        r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_dst(h), REMOTE);
        assert_int_equal(ns_icmp4_type(h + 20), NS_ICMP4_PARAM_PROBLEM);
        assert_int_equal(ns_icmp4_pointer(h + 20), 22);
        assert_memory_equal(h + 28, buf, n);
        ns_pkt_free(r);
        assert_int_equal(k.delivered, 0);
        ns_test_env_destroy(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_receive_options),
                cmocka_unit_test(test_fragment_options_recorded_once),
                cmocka_unit_test(test_forwarded_record_route),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
