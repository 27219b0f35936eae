/*
 * Test support: a stack on a manual clock and a seeded RNG, channel NICs,
 * and packet builders shared by the scenario suites.
 */
#ifndef NS_TEST_H
#define NS_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netstack/netstack.h>
#include <netstack/channel.h>
#include <netstack/stack.h>

/** A stack with its clock, RNG and up to four channel NICs. */
struct ns_test_env {
        struct ns_manual_clock clock;
        struct ns_seeded_rng rng;
        struct ns_stack *s;
        struct ns_channel *ch[5]; /* index = NIC id; 0 unused */
};

/** 2026-01-01T00:00:00Z, the wall time every test stack starts at. */
#define NS_TEST_WALL_START_NS (1767225600LL * 1000000000LL)

/**
 * Creates env->s with the given NULL-terminated module list (NULL: none),
 * seed 1, handle_local on. Fails the test on error.
 */
void ns_test_env_init(struct ns_test_env *env, const struct ns_module *const *modules);

/** Same with a config hook to change fields before creation. */
void ns_test_env_init_cfg(struct ns_test_env *env, const struct ns_module *const *modules,
                          void (*tweak)(struct ns_stack_config *cfg));

/** Adds channel NIC `id` (1..4) with the MTU and, when addr != 0, an address. */
void ns_test_add_nic(struct ns_test_env *env, uint32_t id, uint32_t mtu, ns_ip4 addr,
                     uint8_t prefix_len);

/** Drains the channels, destroys the stack and the channels. */
void ns_test_env_destroy(struct ns_test_env *env);

/** Packets of the stack's pool currently alive (queued ones included). */
uint32_t ns_test_packets_in_use(struct ns_test_env *env);

/** Advances the manual clock and polls the stack. */
void ns_test_advance(struct ns_test_env *env, int64_t ns);

/** Frees every packet queued on every channel. */
void ns_test_drain_all(struct ns_test_env *env);

#endif
