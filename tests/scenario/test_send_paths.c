/*
 * The send paths' shortcuts for the usual packet (fits the link, nothing
 * at POSTROUTING, no neighbour cache) against the full path: a link that
 * refuses a packet, a packet exactly the link MTU and one byte more, and a
 * POSTROUTING function, for locally sent and for forwarded packets. Each
 * case checks what left the link, the return value and the counters.
 */
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/err.h>
#include <netstack/filter.h>
#include <netstack/ipv4.h>
#include <netstack/udp.h>
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_udp, NULL };

#define US1  NS_IP4(192, 0, 2, 1)
#define PEER NS_IP4(192, 0, 2, 7)
#define US2  NS_IP4(198, 51, 100, 1)
#define FAR  NS_IP4(198, 51, 100, 9)

/* NIC 1 a normal channel; NIC 2 a channel of MTU 576 holding one packet. */
static void env_up(struct ns_test_env *env, struct ns_udp_ep **ep)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, US1, 24);
        env->ch[2] = ns_channel_create(NULL, 576, 1, 0);
        assert_int_equal(ns_nic_create(env->s, 2, ns_channel_link(env->ch[2]), NULL), 0);
        struct ns_ip4_prefix a = { US2, 24 };
        assert_int_equal(ns_nic_add_address(env->s, 2, a), 0);
        assert_int_equal(ns_udp_open(env->s, ep), 0);
        assert_int_equal(ns_udp_bind(*ep, NS_IP4_ANY, 4000, 0), 0);
}

static void env_down(struct ns_test_env *env, struct ns_udp_ep *ep)
{
        ns_udp_close(ep);
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

static struct ns_stats stats(struct ns_test_env *env)
{
        struct ns_stats st;
        ns_stack_get_stats(env->s, &st);
        return st;
}

static void test_local_send_into_a_full_link(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        struct ns_stats a = stats(&env);
        assert_int_equal(ns_udp_send(ep, FAR, 9, "x", 1), 0);
        struct ns_stats b = stats(&env);
        assert_int_equal(b.ip.packets_sent - a.ip.packets_sent, 1);
        /* The queue holds one: the second is refused by the link. */
        assert_int_equal(ns_udp_send(ep, FAR, 9, "y", 1), NS_ERR_IO);
        struct ns_stats c = stats(&env);
        assert_int_equal(c.ip.packets_sent - b.ip.packets_sent, 0);
        assert_int_equal(c.ip.outgoing_packet_errors - b.ip.outgoing_packet_errors, 1);
        assert_int_equal(c.nic.tx_errors - b.nic.tx_errors, 1);
        assert_int_equal(c.udp.packet_send_errors - b.udp.packet_send_errors, 1);
        assert_int_equal(ns_channel_queued(env.ch[2]), 1);
        assert_int_equal(ns_channel_dropped(env.ch[2]), 1);
        env_down(&env, ep);
}

static void test_local_send_at_and_past_the_mtu(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        static uint8_t data[600];
        /* 20 + 8 + 548 = 576: one packet. */
        assert_int_equal(ns_udp_send(ep, FAR, 9, data, 548), 0);
        struct ns_pkt *p = ns_channel_read(env.ch[2]);
        assert_non_null(p);
        assert_int_equal(ns_pkt_len(p), 576);
        assert_false(ns_ipv4_is_fragment(ns_pkt_data(p)));
        ns_pkt_free(p);
        /* One byte more: two fragments, the second refused by the one-slot link. */
        struct ns_stats a = stats(&env);
        assert_int_not_equal(ns_udp_send(ep, FAR, 9, data, 549), 0);
        struct ns_stats b = stats(&env);
        assert_int_equal(b.ip.frag_oks - a.ip.frag_oks, 1);
        assert_int_equal(b.ip.frag_creates - a.ip.frag_creates, 2);
        assert_int_equal(b.ip.packets_sent - a.ip.packets_sent, 1);
        assert_int_equal(b.ip.outgoing_packet_errors - a.ip.outgoing_packet_errors, 1);
        p = ns_channel_read(env.ch[2]);
        assert_non_null(p);
        assert_true(ns_ipv4_is_fragment(ns_pkt_data(p)));
        ns_pkt_free(p);
        env_down(&env, ep);
}

static int post_calls;

static enum ns_verdict drop_post(void *ctx, struct ns_pkt *pkt, const struct ns_filter_info *info)
{
        (void)ctx;
        (void)pkt;
        post_calls++;
        assert_int_equal(info->hook, NS_HOOK_POSTROUTING);
        return NS_VERDICT_DROP;
}

/* A datagram to forward, in on NIC 1 (DF as asked). */
static void inject_fwd(struct ns_test_env *env, uint32_t payload_len, bool df)
{
        static uint8_t payload[1500];
        struct ipv4_spec spec = { .src = PEER,
                                  .dst = FAR,
                                  .proto = 253,
                                  .ttl = 64,
                                  .flags = df ? NS_IPV4_FLAG_DF : 0,
                                  .payload = payload,
                                  .payload_len = payload_len };
        uint8_t buf[1600];
        size_t n = ipv4_build(buf, sizeof(buf), &spec);
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, (uint32_t)n), 0);
}

static void test_forwarded_packets(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_FORWARDING, 1), 0);
        /* Exactly the egress MTU: out whole. */
        struct ns_stats a = stats(&env);
        inject_fwd(&env, 556, true);
        struct ns_stats b = stats(&env);
        assert_int_equal(b.ip.forwarded - a.ip.forwarded, 1);
        assert_int_equal(b.ip.packets_sent - a.ip.packets_sent, 1);
        assert_int_equal(ns_channel_queued(env.ch[2]), 1);
        /* The link is full now: a forward error. */
        inject_fwd(&env, 100, false);
        struct ns_stats c = stats(&env);
        assert_int_equal(c.ip.forwarded - b.ip.forwarded, 1);
        assert_int_equal(c.ip.outgoing_packet_errors - b.ip.outgoing_packet_errors, 1);
        assert_int_equal(c.ip.forward_errors - b.ip.forward_errors, 1);
        assert_int_equal(ns_channel_queued(env.ch[2]), 1);
        ns_test_drain_all(&env);
        /* One byte over without DF: fragmented by the send path. */
        inject_fwd(&env, 557, false);
        struct ns_stats d = stats(&env);
        assert_int_equal(d.ip.frag_oks - c.ip.frag_oks, 1);
        ns_test_drain_all(&env);
        /* A POSTROUTING function sees (and here drops) a forwarded packet. */
        post_calls = 0;
        assert_int_equal(ns_filter_set_hook(env.s, NS_HOOK_POSTROUTING, drop_post, NULL), 0);
        inject_fwd(&env, 100, false);
        struct ns_stats e = stats(&env);
        assert_int_equal(post_calls, 1);
        assert_int_equal(e.ip.iptables_postrouting_dropped - d.ip.iptables_postrouting_dropped, 1);
        assert_int_equal(ns_channel_queued(env.ch[2]), 0);
        /* And a local send. */
        assert_int_equal(ns_udp_send(ep, FAR, 9, "x", 1), 0);
        assert_int_equal(post_calls, 2);
        assert_int_equal(ns_channel_queued(env.ch[2]), 0);
        assert_int_equal(ns_filter_set_hook(env.s, NS_HOOK_POSTROUTING, NULL, NULL), 0);
        assert_int_equal(ns_udp_send(ep, FAR, 9, "x", 1), 0);
        assert_int_equal(post_calls, 2);
        assert_int_equal(ns_channel_queued(env.ch[2]), 1);
        env_down(&env, ep);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_local_send_into_a_full_link),
                cmocka_unit_test(test_local_send_at_and_past_the_mtu),
                cmocka_unit_test(test_forwarded_packets),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
