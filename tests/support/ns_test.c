/* Test support implementation; see ns_test.h. */
#include <string.h>

#include "ns_test.h"

void ns_test_env_init_cfg(struct ns_test_env *env, const struct ns_module *const *modules,
                          void (*tweak)(struct ns_stack_config *cfg))
{
        memset(env, 0, sizeof(*env));
        ns_manual_clock_init(&env->clock, 1000000000LL, NS_TEST_WALL_START_NS);
        ns_seeded_rng_init(&env->rng, 1);
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_manual_clock_as_clock(&env->clock);
        cfg.rng = ns_seeded_rng_as_rng(&env->rng);
        cfg.modules = modules;
        if (tweak)
                tweak(&cfg);
        assert_int_equal(ns_stack_create(&cfg, &env->s), 0);
}

void ns_test_env_init(struct ns_test_env *env, const struct ns_module *const *modules)
{
        ns_test_env_init_cfg(env, modules, NULL);
}

void ns_test_add_nic(struct ns_test_env *env, uint32_t id, uint32_t mtu, ns_ip4 addr,
                     uint8_t prefix_len)
{
        assert_true(id >= 1 && id <= 4);
        env->ch[id] = ns_channel_create(NULL, mtu, 4096, 0);
        assert_non_null(env->ch[id]);
        assert_int_equal(ns_nic_create(env->s, id, ns_channel_link(env->ch[id]), NULL), 0);
        if (addr) {
                struct ns_ip4_prefix p = { .addr = addr, .prefix_len = prefix_len };
                assert_int_equal(ns_nic_add_address(env->s, id, p), 0);
        }
}

void ns_test_drain_all(struct ns_test_env *env)
{
        for (int i = 1; i <= 4; i++)
                if (env->ch[i])
                        ns_channel_drain(env->ch[i]);
}

void ns_test_env_destroy(struct ns_test_env *env)
{
        ns_test_drain_all(env);
        ns_stack_destroy(env->s);
        for (int i = 1; i <= 4; i++)
                ns_channel_destroy(env->ch[i]);
}

uint32_t ns_test_packets_in_use(struct ns_test_env *env)
{
        struct ns_pkt_pool_stats ps;
        ns_pkt_pool_get_stats(ns_stack_pool(env->s), &ps);
        return ps.in_use;
}

void ns_test_advance(struct ns_test_env *env, int64_t ns)
{
        ns_manual_clock_advance(&env->clock, ns);
        ns_stack_poll(env->s);
}
