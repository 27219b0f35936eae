/*
 * Raw IPv4 endpoints over channel NICs: copies of UDP and ICMP datagrams
 * beside the UDP and ping modules, sole delivery of protocols nobody else
 * handles (no protocol unreachable), and sending with and without a
 * caller-built header.
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include <netstack/ping.h>
#include <netstack/raw.h>
#include <netstack/udp.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_udp, &ns_module_ping,
                                                &ns_module_raw, NULL };

#define US   NS_IP4(192, 0, 2, 1)
#define PEER NS_IP4(192, 0, 2, 2)

struct raw_log {
        int count;
        struct ns_raw_datagram last;
        uint8_t bytes[256];
        bool close_self;
};

static void on_raw(void *ctx, struct ns_raw_ep *ep, const struct ns_raw_datagram *d)
{
        struct raw_log *log = ctx;
        log->count++;
        log->last = *d;
        memcpy(log->bytes, d->data, d->len < sizeof(log->bytes) ? d->len : sizeof(log->bytes));
        if (log->close_self)
                ns_raw_close(ep);
}

static int udp_count;

static void on_udp(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_datagram *d)
{
        (void)ctx;
        (void)ep;
        (void)d;
        udp_count++;
}

static void setup(struct ns_test_env *env)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, US, 24);
        udp_count = 0;
}

static void teardown(struct ns_test_env *env)
{
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

static size_t build_ip(uint8_t *buf, ns_ip4 src, uint8_t proto, const void *payload, size_t len)
{
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(20 + len),
                                    .id = 11,
                                    .ttl = 64,
                                    .proto = proto,
                                    .src = src,
                                    .dst = US };
        assert_int_equal(ns_ipv4_emit(buf, 20, &f), 20);
        memcpy(buf + 20, payload, len);
        return 20 + len;
}

static void inject(struct ns_test_env *env, const uint8_t *buf, size_t n)
{
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, (uint32_t)n), 0);
}

static void test_udp_copies(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct raw_log log = { 0 };
        struct ns_raw_ep *raw;
        assert_int_equal(ns_raw_open(env.s, 17, &raw), 0);
        ns_raw_set_recv_cb(raw, on_raw, &log);
        struct ns_udp_ep *u;
        assert_int_equal(ns_udp_open(env.s, &u), 0);
        assert_int_equal(ns_udp_bind(u, NS_IP4_ANY, 7000, 0), 0);
        ns_udp_set_recv_cb(u, on_udp, NULL);
        uint8_t d[16], buf[64];
        memcpy(d + 8, "raw!", 4);
        ns_udp_emit_datagram(d, 12, 1000, 7000, PEER, US);
        size_t n = build_ip(buf, PEER, 17, d, 12);
        inject(&env, buf, n);
        /* Both the raw endpoint (from the IP header) and the UDP endpoint see it. */
        assert_int_equal(log.count, 1);
        assert_int_equal(udp_count, 1);
        assert_int_equal(log.last.len, n);
        assert_int_equal(log.last.ip_hdr_len, 20);
        assert_int_equal(log.last.proto, 17);
        assert_int_equal(log.last.src, PEER);
        assert_int_equal(log.last.dst, US);
        assert_int_equal(log.last.nic_id, 1);
        assert_memory_equal(log.bytes, buf, n);
        /* To a closed UDP port: the raw copy, and still the port unreachable. */
        ns_udp_emit_datagram(d, 12, 1000, 7001, PEER, US);
        n = build_ip(buf, PEER, 17, d, 12);
        inject(&env, buf, n);
        assert_int_equal(log.count, 2);
        assert_int_equal(ns_channel_queued(env.ch[1]), 1);
        ns_udp_close(u);
        ns_raw_close(raw);
        teardown(&env);
}

static void test_icmp_copies(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct raw_log log = { 0 };
        struct ns_raw_ep *raw;
        assert_int_equal(ns_raw_open(env.s, 1, &raw), 0);
        ns_raw_set_recv_cb(raw, on_raw, &log);
        uint8_t m[32], buf[64];
        size_t mn = ns_icmp4_emit_echo(m, sizeof(m), NS_ICMP4_ECHO_REPLY, 5, 6, NULL, 0);
        size_t n = build_ip(buf, PEER, 1, m, mn);
        /* An echo reply no ping endpoint waits for still reaches the raw endpoint. */
        inject(&env, buf, n);
        assert_int_equal(log.count, 1);
        assert_int_equal(log.last.proto, 1);
        assert_int_equal(log.bytes[20], NS_ICMP4_ECHO_REPLY);
        ns_raw_close(raw);
        inject(&env, buf, n);
        assert_int_equal(log.count, 1);
        teardown(&env);
}

static void test_unhandled_protocol(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        uint8_t buf[64];
        size_t n = build_ip(buf, PEER, 253, "experiment", 10);
        /* Nobody takes protocol 253: protocol unreachable. */
        inject(&env, buf, n);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        assert_int_equal(ns_pkt_data(r)[20], NS_ICMP4_DEST_UNREACH);
        assert_int_equal(ns_pkt_data(r)[21], NS_ICMP4_PROTO_UNREACH);
        ns_pkt_free(r);
        /* A raw endpoint takes it: no ICMP (Linux). */
        struct raw_log log = { .close_self = true };
        struct ns_raw_ep *raw;
        assert_int_equal(ns_raw_open(env.s, 253, &raw), 0);
        ns_raw_set_recv_cb(raw, on_raw, &log);
        inject(&env, buf, n);
        assert_int_equal(log.count, 1);
        assert_memory_equal(log.bytes + 20, "experiment", 10);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        /* It closed itself in the callback: protocol unreachable again. */
        inject(&env, buf, n);
        assert_int_equal(log.count, 1);
        assert_int_equal(ns_channel_queued(env.ch[1]), 1);
        ns_test_drain_all(&env);
        /* A raw endpoint bound to another NIC does not take it. */
        ns_test_add_nic(&env, 2, 1500, NS_IP4(198, 51, 100, 1), 24);
        assert_int_equal(ns_raw_open(env.s, 253, &raw), 0);
        assert_int_equal(ns_raw_bind(raw, NS_IP4_ANY, 2), 0);
        assert_int_equal(ns_raw_bind(raw, NS_IP4(203, 0, 113, 5), 0), NS_ERR_BAD_LOCAL_ADDRESS);
        assert_int_equal(ns_raw_bind(raw, NS_IP4_ANY, 9), NS_ERR_UNKNOWN_NIC);
        inject(&env, buf, n);
        assert_int_equal(ns_channel_queued(env.ch[1]), 1);
        assert_int_equal(ns_raw_open(env.s, 0, &raw), NS_ERR_INVALID_ARGUMENT);
        teardown(&env);
}

static void test_send(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ns_raw_ep *raw;
        assert_int_equal(ns_raw_open(env.s, 253, &raw), 0);
        assert_int_equal(ns_raw_send(raw, PEER, "payload", 7), 0);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
        assert_true(ns_ipv4_checksum_ok(h, 20));
        assert_int_equal(ns_ipv4_proto(h), 253);
        assert_int_equal(ns_ipv4_src(h), US);
        assert_int_equal(ns_ipv4_dst(h), PEER);
        assert_int_equal(ns_ipv4_ttl(h), 64);
        assert_int_equal(ns_pkt_len(r), 27);
        assert_memory_equal(h + 20, "payload", 7);
        ns_pkt_free(r);
        assert_int_equal(ns_raw_send(raw, NS_IP4_ANY, "x", 1), NS_ERR_INVALID_ARGUMENT);
        /* IP_HDRINCL: our header, with length and checksum fixed, source filled. */
        uint8_t pkt[64];
        struct ns_ipv4_fields f = { .total_len = 0,
                                    .id = 0x1234,
                                    .ttl = 3,
                                    .proto = 99,
                                    .src = 0,
                                    .dst = PEER,
                                    .tos = 0x08 };
        assert_int_equal(ns_ipv4_emit(pkt, 20, &f), 20);
        memcpy(pkt + 20, "hdrincl", 7);
        assert_int_equal(ns_raw_send_hdrincl(raw, pkt, 27), 0);
        r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
        assert_true(ns_ipv4_checksum_ok(h, 20));
        assert_int_equal(ns_ipv4_total_len(h), 27);
        assert_int_equal(ns_ipv4_proto(h), 99);
        assert_int_equal(ns_ipv4_ttl(h), 3);
        assert_int_equal(ns_ipv4_tos(h), 0x08);
        assert_int_equal(ns_ipv4_id(h), 0x1234);
        assert_int_equal(ns_ipv4_src(h), US);
        assert_memory_equal(h + 20, "hdrincl", 7);
        ns_pkt_free(r);
        assert_int_equal(ns_raw_send_hdrincl(raw, pkt, 10), NS_ERR_MALFORMED_HEADER);
        pkt[0] = 0x65;
        assert_int_equal(ns_raw_send_hdrincl(raw, pkt, 27), NS_ERR_MALFORMED_HEADER);
        /* Send-only (IPPROTO_RAW) endpoints exist and are freed at destroy. */
        struct ns_raw_ep *so;
        assert_int_equal(ns_raw_open(env.s, 255, &so), 0);
        teardown(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_udp_copies),
                cmocka_unit_test(test_icmp_copies),
                cmocka_unit_test(test_unhandled_protocol),
                cmocka_unit_test(test_send),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
