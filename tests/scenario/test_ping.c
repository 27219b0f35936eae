/*
 * Ping endpoints over channel NICs: echo requests out (RFC 792), replies
 * and ICMP errors back to the endpoint whose identifier they carry.
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include <netstack/ping.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_ping, NULL };

#define US   NS_IP4(192, 0, 2, 1)
#define PEER NS_IP4(192, 0, 2, 2)

struct ping_log {
        int count;
        struct ns_ping_msg last;
        uint8_t data[128];
        uint8_t ip_hdr[60];
        bool close_self;
};

static void on_msg(void *ctx, struct ns_ping_ep *ep, const struct ns_ping_msg *m)
{
        struct ping_log *log = ctx;
        log->count++;
        log->last = *m;
        if (m->data)
                memcpy(log->data, m->data, m->len < sizeof(log->data) ? m->len : sizeof(log->data));
        if (m->ip_hdr)
                memcpy(log->ip_hdr, m->ip_hdr, m->ip_hdr_len);
        if (log->close_self)
                ns_ping_close(ep);
}

static void setup(struct ns_test_env *env)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, US, 24);
}

static void teardown(struct ns_test_env *env)
{
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

static void inject(struct ns_test_env *env, const uint8_t *buf, size_t n)
{
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, (uint32_t)n), 0);
}

/* An ICMP message from src to us, with optional IP options. */
static size_t build_icmp(uint8_t *buf, ns_ip4 src, const uint8_t *icmp, size_t len,
                         const uint8_t *opts, uint8_t opts_len)
{
        struct ns_ipv4_fields f = { .id = 3,
                                    .ttl = 61,
                                    .proto = 1,
                                    .src = src,
                                    .dst = US,
                                    .options = opts,
                                    .options_len = opts_len };
        size_t hl = 20 + (size_t)((opts_len + 3) & ~3);
        f.total_len = (uint16_t)(hl + len);
        assert_int_equal(ns_ipv4_emit(buf, hl, &f), hl);
        memcpy(buf + hl, icmp, len);
        return hl + len;
}

static size_t build_reply(uint8_t *buf, ns_ip4 src, uint16_t id, uint16_t seq, const char *text,
                          const uint8_t *opts, uint8_t opts_len)
{
        uint8_t m[128];
        size_t n = ns_icmp4_emit_echo(m, sizeof(m), NS_ICMP4_ECHO_REPLY, id, seq,
                                      (const uint8_t *)text, strlen(text));
        assert_true(n > 0);
        return build_icmp(buf, src, m, n, opts, opts_len);
}

static void test_request_out_reply_in(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ping_log log = { 0 };
        struct ns_ping_ep *ep;
        assert_int_equal(ns_ping_open(env.s, &ep), 0);
        ns_ping_set_recv_cb(ep, on_msg, &log);
        assert_int_equal(ns_ping_send(ep, PEER, 0x4242, 7, "abcdef", 6, NULL), 0);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
        assert_int_equal(ns_ipv4_proto(h), 1);
        assert_int_equal(ns_ipv4_src(h), US);
        assert_int_equal(ns_ipv4_dst(h), PEER);
        assert_int_equal(ns_ipv4_ttl(h), 64);
        const uint8_t *m = h + 20;
        assert_int_equal(ns_pkt_len(r), 20 + 8 + 6);
        assert_int_equal(ns_icmp4_type(m), NS_ICMP4_ECHO);
        assert_int_equal(ns_icmp4_code(m), 0);
        assert_int_equal(ns_icmp4_id(m), 0x4242);
        assert_int_equal(ns_icmp4_seq(m), 7);
        assert_true(ns_icmp4_checksum_ok(m, 14));
        assert_memory_equal(m + 8, "abcdef", 6);
        ns_pkt_free(r);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.icmp.sent_echo_request, 1);
        assert_int_equal(st.icmp.sent_total, 1);

        uint8_t buf[256];
        size_t n = build_reply(buf, PEER, 0x4242, 7, "abcdef", NULL, 0);
        inject(&env, buf, n);
        assert_int_equal(log.count, 1);
        assert_int_equal(log.last.err, 0);
        assert_int_equal(log.last.icmp_type, NS_ICMP4_ECHO_REPLY);
        assert_int_equal(log.last.id, 0x4242);
        assert_int_equal(log.last.seq, 7);
        assert_int_equal(log.last.src, PEER);
        assert_int_equal(log.last.dst, US);
        assert_int_equal(log.last.nic_id, 1);
        assert_int_equal(log.last.ttl, 61);
        assert_int_equal(log.last.ip_hdr_len, 20);
        assert_int_equal(log.last.len, 6);
        assert_memory_equal(log.data, "abcdef", 6);
        /* Another id, or the right id from another host: not ours. */
        n = build_reply(buf, PEER, 0x4243, 8, "x", NULL, 0);
        inject(&env, buf, n);
        n = build_reply(buf, NS_IP4(192, 0, 2, 3), 0x4242, 8, "x", NULL, 0);
        inject(&env, buf, n);
        assert_int_equal(log.count, 1);
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.icmp.received_echo_reply, 3);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        ns_ping_close(ep);
        teardown(&env);
}

static void test_options_and_ttl(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ping_log log = { 0 };
        struct ns_ping_ep *ep;
        assert_int_equal(ns_ping_open(env.s, &ep), 0);
        ns_ping_set_recv_cb(ep, on_msg, &log);
        /* Record Route with room for 9 addresses (ping -R). */
        uint8_t rr[39] = { 7, 39, 4 };
        struct ns_ping_send_opts o = {
                .ttl = 9, .tos = 0x20, .ip_options = rr, .ip_options_len = 39
        };
        assert_int_equal(ns_ping_send(ep, PEER, 1, 1, "d", 1, &o), 0);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_hdr_len(h), 60);
        assert_int_equal(ns_ipv4_ttl(h), 9);
        assert_int_equal(ns_ipv4_tos(h), 0x20);
        assert_int_equal(h[20], 7);
        assert_int_equal(h[21], 39);
        assert_int_equal(ns_icmp4_type(h + 60), NS_ICMP4_ECHO);
        ns_pkt_free(r);
        /* The reply's recorded route is visible to the user. */
        uint8_t rr_back[11] = { 7, 11, 12, 192, 0, 2, 2, 0, 0, 0, 0 };
        uint8_t buf[256];
        size_t n = build_reply(buf, PEER, 1, 1, "d", rr_back, 11);
        inject(&env, buf, n);
        assert_int_equal(log.count, 1);
        assert_int_equal(log.last.ip_hdr_len, 32);
        assert_int_equal(log.ip_hdr[20], 7);
        assert_memory_equal(log.ip_hdr + 23, "\xc0\x00\x02\x02", 4);
        uint8_t big[41] = { 0 };
        o.ip_options = big;
        o.ip_options_len = 41;
        assert_int_equal(ns_ping_send(ep, PEER, 1, 2, "d", 1, &o), NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_ping_send(ep, NS_IP4_ANY, 1, 2, "d", 1, NULL), NS_ERR_INVALID_ARGUMENT);
        ns_ping_close(ep);
        teardown(&env);
}

static void test_error_quoting_request(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ping_log la = { 0 }, lb = { 0 };
        struct ns_ping_ep *a, *b;
        assert_int_equal(ns_ping_open(env.s, &a), 0);
        assert_int_equal(ns_ping_open(env.s, &b), 0);
        ns_ping_set_recv_cb(a, on_msg, &la);
        ns_ping_set_recv_cb(b, on_msg, &lb);
        const ns_ip4 far = NS_IP4(192, 0, 2, 77);
        assert_int_equal(ns_ping_send(a, far, 100, 5, "aa", 2, NULL), 0);
        assert_int_equal(ns_ping_send(b, far, 200, 5, "bb", 2, NULL), 0);
        struct ns_pkt *ra = ns_channel_read(env.ch[1]);
        assert_non_null(ra);
        /* A router says time exceeded about a's request. */
        uint8_t m[128], buf[256];
        size_t mn =
            ns_icmp4_emit_error(m, sizeof(m), NS_ICMP4_TIME_EXCEEDED, 0, 0, ns_pkt_data(ra), 28);
        size_t n = build_icmp(buf, NS_IP4(192, 0, 2, 254), m, mn, NULL, 0);
        inject(&env, buf, n);
        assert_int_equal(la.count, 1);
        assert_int_equal(lb.count, 0);
        assert_int_equal(la.last.err, NS_ERR_HOST_UNREACHABLE);
        assert_int_equal(la.last.icmp_type, NS_ICMP4_TIME_EXCEEDED);
        assert_int_equal(la.last.id, 100);
        assert_int_equal(la.last.seq, 5);
        assert_int_equal(la.last.dst, far);
        assert_null(la.last.data);
        ns_pkt_free(ra);
        ns_ping_close(a);
        ns_ping_close(b);
        teardown(&env);
}

static void test_ping_self(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env);
        struct ping_log log = { .close_self = true };
        struct ns_ping_ep *ep;
        assert_int_equal(ns_ping_open(env.s, &ep), 0);
        ns_ping_set_recv_cb(ep, on_msg, &log);
        /* The request loops to our own ICMP, whose reply loops back to us. */
        assert_int_equal(ns_ping_send(ep, US, 9, 1, "loop", 4, NULL), 0);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        assert_int_equal(log.count, 1);
        assert_int_equal(log.last.src, US);
        assert_memory_equal(log.data, "loop", 4);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.icmp.sent_echo_request, 1);
        assert_int_equal(st.icmp.sent_echo_reply, 1);
        /* The endpoint closed itself in the callback; one left open is freed at destroy. */
        struct ns_ping_ep *left;
        assert_int_equal(ns_ping_open(env.s, &left), 0);
        teardown(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_out_reply_in),
                cmocka_unit_test(test_options_and_ttl),
                cmocka_unit_test(test_error_quoting_request),
                cmocka_unit_test(test_ping_self),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
