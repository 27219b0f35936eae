/*
 * Fragments through the whole stack: reassembly of an echo request, the
 * reply fragmented to the NIC's MTU, and the reassembly timeout's ICMP
 * (RFC 792 time exceeded code 1, only when the first fragment came).
 */
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define PEER NS_IP4(192, 0, 2, 2)
#define US   NS_IP4(192, 0, 2, 1)

/* The ICMP echo message (header + data_len pattern bytes) into out. */
static size_t echo_msg(uint8_t *out, uint32_t data_len)
{
        uint8_t data[9000];
        for (uint32_t i = 0; i < data_len; i++)
                data[i] = (uint8_t)(i * 7 + 3);
        return ns_icmp4_emit_echo(out, 8 + data_len, NS_ICMP4_ECHO, 0x4242, 9, data, data_len);
}

/* Injects bytes [off, off+len) of msg as one fragment of datagram `id`. */
static void inject_frag(struct ns_test_env *env, const uint8_t *msg, uint32_t off, uint32_t len,
                        bool more, uint16_t id)
{
        uint8_t buf[2048];
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(20 + len),
                                    .id = id,
                                    .flags = more ? NS_IPV4_FLAG_MF : 0,
                                    .frag_off = (uint16_t)off,
                                    .ttl = 64,
                                    .proto = 1,
                                    .src = PEER,
                                    .dst = US };
        assert_int_equal(ns_ipv4_emit(buf, sizeof buf, &f), 20);
        memcpy(buf + 20, msg + off, len);
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, 20 + len), 0);
}

static void check_echo_reply(struct ns_test_env *env, const uint8_t *req, uint32_t req_len)
{
        struct ns_pkt *r = ns_channel_read(env->ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
        assert_int_equal(ns_ipv4_total_len(h), 20 + req_len);
        assert_false(ns_ipv4_is_fragment(h));
        assert_int_equal(h[20], NS_ICMP4_ECHO_REPLY);
        assert_true(ns_icmp4_checksum_ok(h + 20, req_len));
        assert_memory_equal(h + 24, req + 4, req_len - 4);
        ns_pkt_free(r);
        assert_null(ns_channel_read(env->ch[1]));
}

static void test_two_fragments_in_order_and_reversed(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        ns_test_add_nic(&env, 1, 1500, US, 24);
        uint8_t msg[1008];
        size_t n = echo_msg(msg, 1000);
        inject_frag(&env, msg, 0, 512, true, 1);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        inject_frag(&env, msg, 512, (uint32_t)n - 512, false, 1);
        check_echo_reply(&env, msg, (uint32_t)n);
        /* Reversed arrival gives the same datagram. */
        inject_frag(&env, msg, 512, (uint32_t)n - 512, false, 2);
        inject_frag(&env, msg, 0, 512, true, 2);
        check_echo_reply(&env, msg, (uint32_t)n);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.ip.reasm_reqds, 4);
        assert_int_equal(st.ip.reasm_oks, 2);
        assert_int_equal(st.ip.packets_delivered, 2);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

static void test_large_reply_is_fragmented_to_mtu(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        ns_test_add_nic(&env, 1, 1500, US, 24);
        static uint8_t msg[3008];
        size_t n = echo_msg(msg, 3000);
        inject_frag(&env, msg, 0, 1480, true, 7);
        inject_frag(&env, msg, 1480, 1480, true, 7);
        inject_frag(&env, msg, 2960, (uint32_t)n - 2960, false, 7);
        /* The 3008-byte reply leaves as 1480 + 1480 + 48 bytes of payload. */
        static uint8_t whole[3008];
        uint32_t expect_off = 0, count = 0;
        uint16_t id = 0;
        struct ns_pkt *r;
        while ((r = ns_channel_read(env.ch[1])) != NULL) {
                const uint8_t *h = ns_pkt_data(r);
                assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(r)), NS_IPV4_VALID);
                assert_true(ns_pkt_len(r) <= 1500);
                assert_int_equal(ns_ipv4_frag_off(h), expect_off);
                if (count == 0)
                        id = ns_ipv4_id(h);
                assert_int_equal(ns_ipv4_id(h), id);
                uint32_t plen = ns_pkt_len(r) - 20;
                memcpy(whole + expect_off, h + 20, plen);
                expect_off += plen;
                assert_int_equal(ns_ipv4_mf(h), expect_off < n);
                count++;
                ns_pkt_free(r);
        }
        assert_int_equal(count, 3);
        assert_int_equal(expect_off, n);
        assert_int_equal(whole[0], NS_ICMP4_ECHO_REPLY);
        assert_true(ns_icmp4_checksum_ok(whole, (uint32_t)n));
        assert_memory_equal(whole + 8, msg + 8, n - 8);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.ip.frag_oks, 1);
        assert_int_equal(st.ip.frag_creates, 3);
        assert_int_equal(st.ip.packets_sent, 3);
        ns_test_env_destroy(&env);
}

static void test_timeout_with_first_fragment_sends_time_exceeded(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        ns_test_add_nic(&env, 1, 1500, US, 24);
        uint8_t msg[1008];
        echo_msg(msg, 1000);
        inject_frag(&env, msg, 0, 512, true, 3);
        uint32_t inflight = 0;
        uint64_t held = 0;
        assert_int_equal(ns_ipv4_reasm_in_flight(env.s, &inflight, &held), 0);
        assert_int_equal(inflight, 1);
        assert_true(held >= 512);
        ns_test_advance(&env, 29LL * 1000000000);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        ns_test_advance(&env, 2LL * 1000000000);
        struct ns_pkt *r = ns_channel_read(env.ch[1]);
        assert_non_null(r);
        const uint8_t *h = ns_pkt_data(r);
        assert_int_equal(ns_ipv4_dst(h), PEER);
        assert_int_equal(ns_ipv4_src(h), US);
        assert_int_equal(h[20], NS_ICMP4_TIME_EXCEEDED);
        assert_int_equal(h[21], NS_ICMP4_REASSEMBLY_TIMEOUT);
        /* The quote starts with the first fragment's header. */
        assert_int_equal(ns_ipv4_id(h + 28), 3);
        assert_true(ns_ipv4_mf(h + 28));
        ns_pkt_free(r);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.ip.reasm_timeout, 1);
        assert_int_equal(st.icmp.sent_time_exceeded, 1);
        assert_int_equal(ns_ipv4_reasm_in_flight(env.s, &inflight, &held), 0);
        assert_int_equal(inflight, 0);
        assert_int_equal(held, 0);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

static void test_timeout_without_first_fragment_is_silent(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        ns_test_add_nic(&env, 1, 1500, US, 24);
        uint8_t msg[1008];
        size_t n = echo_msg(msg, 1000);
        inject_frag(&env, msg, 512, (uint32_t)n - 512, false, 4);
        ns_test_advance(&env, 31LL * 1000000000);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.ip.reasm_timeout, 1);
        assert_int_equal(st.icmp.sent_total, 0);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

static void test_stack_teardown_with_fragments_pending(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        ns_test_add_nic(&env, 1, 1500, US, 24);
        uint8_t msg[1008];
        echo_msg(msg, 1000);
        for (uint16_t id = 1; id <= 50; id++)
                inject_frag(&env, msg, 0, 512, true, id);
        assert_true(ns_test_packets_in_use(&env) >= 50);
        /* ASan/LSan: destroy frees every held fragment (HOSTILE-INPUTS 79). */
        ns_test_env_destroy(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_two_fragments_in_order_and_reversed),
                cmocka_unit_test(test_large_reply_is_fragmented_to_mtu),
                cmocka_unit_test(test_timeout_with_first_fragment_sends_time_exceeded),
                cmocka_unit_test(test_timeout_without_first_fragment_is_silent),
                cmocka_unit_test(test_stack_teardown_with_fragments_pending),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
