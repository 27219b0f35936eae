/* End-to-end smoke: an echo request in, an echo reply out, over a channel NIC. */
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

static size_t build_echo(uint8_t *buf, ns_ip4 src, ns_ip4 dst, uint8_t ttl, uint16_t id)
{
        uint8_t *icmp = buf + 20;
        size_t n = ns_icmp4_emit_echo(icmp, 64, NS_ICMP4_ECHO, id, 1, (const uint8_t *)"hello", 5);
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(20 + n),
                                    .id = 77,
                                    .ttl = ttl,
                                    .proto = 1,
                                    .src = src,
                                    .dst = dst };
        assert_int_equal(ns_ipv4_emit(buf, 20, &f), 20);
        return 20 + n;
}

static void test_echo_request_gets_reply(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        ns_test_add_nic(&env, 1, 1500, NS_IP4(192, 0, 2, 1), 24);
        uint8_t buf[128];
        size_t n = build_echo(buf, NS_IP4(192, 0, 2, 2), NS_IP4(192, 0, 2, 1), 64, 0x1234);
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, buf, (uint32_t)n), 0);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
        assert_true(ns_ipv4_checksum_ok(h, 20));
        assert_int_equal(ns_ipv4_src(h), NS_IP4(192, 0, 2, 1));
        assert_int_equal(ns_ipv4_dst(h), NS_IP4(192, 0, 2, 2));
        assert_int_equal(ns_ipv4_ttl(h), 64);
        assert_int_equal(h[20], NS_ICMP4_ECHO_REPLY);
        assert_int_equal(ns_icmp4_id(h + 20), 0x1234);
        assert_true(ns_icmp4_checksum_ok(h + 20, ns_pkt_len(r) - 20));
        assert_memory_equal(h + 28, "hello", 5);
        ns_pkt_free(r);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.ip.packets_received, 1);
        assert_int_equal(st.ip.packets_delivered, 1);
        assert_int_equal(st.ip.packets_sent, 1);
        assert_int_equal(st.icmp.received_echo_request, 1);
        assert_int_equal(st.icmp.sent_echo_reply, 1);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

/*
 * A router answers for its far-side address on the near side (weak host
 * model: Linux, and gVisor's FindRoute when forwarding).
 */
static void test_router_answers_for_far_side_address(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        ns_test_add_nic(&env, 1, 1500, NS_IP4(192, 0, 2, 2), 24);
        ns_test_add_nic(&env, 2, 1500, NS_IP4(198, 51, 100, 2), 24);
        uint8_t buf[128];
        size_t n = build_echo(buf, NS_IP4(192, 0, 2, 1), NS_IP4(198, 51, 100, 2), 64, 7);
        /* Without forwarding, a host does not take it on the wrong NIC. */
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, buf, (uint32_t)n), 0);
        assert_null(ns_channel_read(env.ch[1]));
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_FORWARDING, 1), 0);
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, buf, (uint32_t)n), 0);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_src(h), NS_IP4(198, 51, 100, 2));
        assert_int_equal(ns_ipv4_dst(h), NS_IP4(192, 0, 2, 1));
        assert_int_equal(h[20], NS_ICMP4_ECHO_REPLY);
        ns_pkt_free(r);
        assert_int_equal(ns_channel_queued(env.ch[2]), 0);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_echo_request_gets_reply),
                cmocka_unit_test(test_router_answers_for_far_side_address),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
