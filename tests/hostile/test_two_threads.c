/*
 * HOSTILE-INPUTS 78: calling a stack from two threads. netstack-c's rule is
 * one owner per stack and no shared mutable state, so two stacks driven by
 * two threads at once must each see exactly their own traffic (and a
 * ThreadSanitizer build of this test reports nothing).
 */
#include <pthread.h>
#include <string.h>

#include "ns_test.h"
#include <netstack/ipv4.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define ROUNDS 5000

struct worker {
        ns_ip4 addr;
        uint64_t replies;
        uint64_t delivered;
};

static void *run(void *arg)
{
        struct worker *w = arg;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        ns_test_add_nic(&env, 1, 1500, w->addr, 24);
        uint8_t buf[128];
        uint8_t *icmp = buf + 20;
        size_t n = ns_icmp4_emit_echo(icmp, 64, NS_ICMP4_ECHO, 1, 1, (const uint8_t *)"x", 1);
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(20 + n),
                                    .ttl = 64,
                                    .proto = 1,
                                    .src = w->addr + 1,
                                    .dst = w->addr };
        ns_ipv4_emit(buf, 20, &f);
        for (int i = 0; i < ROUNDS; i++) {
                ns_channel_inject_bytes(env.ch[1], 0x0800, buf, (uint32_t)(20 + n));
                struct ns_pkt *r = ns_channel_read(env.ch[1]);
                if (r && ns_ipv4_src(ns_pkt_data(r)) == w->addr)
                        w->replies++;
                ns_pkt_free(r);
        }
        struct ns_stats st;
        ns_stack_get_stats(env.s, &st);
        w->delivered = st.ip.packets_delivered;
        ns_test_env_destroy(&env);
        return NULL;
}

static void test_two_stacks_on_two_threads(void **state)
{
        (void)state;
        struct worker a = { .addr = NS_IP4(192, 0, 2, 1) };
        struct worker b = { .addr = NS_IP4(198, 51, 100, 1) };
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, run, &a), 0);
        assert_int_equal(pthread_create(&tb, NULL, run, &b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        assert_int_equal(a.replies, ROUNDS);
        assert_int_equal(b.replies, ROUNDS);
        assert_int_equal(a.delivered, ROUNDS);
        assert_int_equal(b.delivered, ROUNDS);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_two_stacks_on_two_threads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
