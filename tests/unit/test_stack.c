/*
 * The stack core without protocols: lifecycle, NICs, addresses, routes and
 * route resolution (the seed's FindRoute semantics), two stacks at once.
 */
#include <string.h>

#include "ns_test.h"
#include "core/stack.h"

#define A(a, b, c, d) NS_IP4(a, b, c, d)

static struct ns_ip4_prefix pfx(ns_ip4 a, uint8_t len)
{
        return (struct ns_ip4_prefix){ .addr = a, .prefix_len = len };
}

static void test_create_requires_clock_and_rng(void **state)
{
        (void)state;
        struct ns_stack_config cfg;
        struct ns_stack *s = NULL;
        ns_stack_config_init(&cfg);
        assert_int_equal(ns_stack_create(&cfg, &s), NS_ERR_INVALID_ARGUMENT);
        assert_null(s);
        assert_true(cfg.handle_local);
}

static int failing_attach(struct ns_stack *s)
{
        (void)s;
        return NS_ERR_NOT_SUPPORTED;
}

static int attach_count, detach_count;
static int counting_attach(struct ns_stack *s)
{
        (void)s;
        attach_count++;
        return 0;
}
static void counting_detach(struct ns_stack *s)
{
        (void)s;
        detach_count++;
}

static void test_module_attach_failure_detaches_earlier_ones(void **state)
{
        (void)state;
        static const struct ns_module good = { "good", counting_attach, counting_detach };
        static const struct ns_module bad = { "bad", failing_attach, NULL };
        const struct ns_module *mods[] = { &good, &bad, NULL };
        struct ns_manual_clock clk;
        struct ns_seeded_rng rng;
        ns_manual_clock_init(&clk, 0, 0);
        ns_seeded_rng_init(&rng, 7);
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_manual_clock_as_clock(&clk);
        cfg.rng = ns_seeded_rng_as_rng(&rng);
        cfg.modules = mods;
        struct ns_stack *s = NULL;
        attach_count = detach_count = 0;
        assert_int_equal(ns_stack_create(&cfg, &s), NS_ERR_NOT_SUPPORTED);
        assert_int_equal(attach_count, 1);
        assert_int_equal(detach_count, 1);
}

static void test_nic_lifecycle(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, NULL);
        struct ns_channel *ch = ns_channel_create(NULL, 1500, 16, 0);
        struct ns_nic_config cfg = { .name = "eth0", .disabled = true };
        assert_int_equal(ns_nic_create(env.s, 0, ns_channel_link(ch), &cfg),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_nic_create(env.s, 3, ns_channel_link(ch), &cfg), 0);
        /* The same link cannot back two NICs; ids and names are unique. */
        assert_int_equal(ns_nic_create(env.s, 4, ns_channel_link(ch), NULL),
                         NS_ERR_INVALID_ARGUMENT);
        struct ns_channel *ch2 = ns_channel_create(NULL, 1500, 16, 0);
        assert_int_equal(ns_nic_create(env.s, 3, ns_channel_link(ch2), NULL), NS_ERR_DUPLICATE_NIC);
        assert_int_equal(ns_nic_create(env.s, 5, ns_channel_link(ch2), &cfg), NS_ERR_DUPLICATE_NIC);
        assert_int_equal(ns_nic_create(env.s, 5, ns_channel_link(ch2), NULL), 0);
        assert_string_equal(ns_nic_name(env.s, 5), "nic5");
        assert_int_equal(ns_nic_find(env.s, "eth0"), 3);
        assert_int_equal(ns_nic_find(env.s, "nope"), 0);

        assert_false(ns_nic_is_enabled(env.s, 3));
        assert_true(ns_nic_is_enabled(env.s, 5));
        assert_int_equal(ns_nic_enable(env.s, 3), 0);
        assert_true(ns_nic_is_enabled(env.s, 3));
        assert_int_equal(ns_nic_enable(env.s, 9), NS_ERR_UNKNOWN_NIC);

        assert_int_equal(ns_nic_remove(env.s, 3), 0);
        assert_null(ns_nic_name(env.s, 3));
        assert_int_equal(ns_nic_remove(env.s, 3), NS_ERR_UNKNOWN_NIC);
        /* The link is free again once its NIC is gone. */
        assert_int_equal(ns_nic_create(env.s, 3, ns_channel_link(ch), NULL), 0);
        ns_test_env_destroy(&env);
        ns_channel_destroy(ch);
        ns_channel_destroy(ch2);
}

static void test_deliver_counts_disabled_and_unknown_protocol(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, NULL);
        ns_test_add_nic(&env, 1, 1500, 0, 0);
        static const uint8_t bytes[40] = { 0x45 };
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, bytes, sizeof bytes), 0);
        struct ns_stats st;
        assert_int_equal(ns_nic_get_stats(env.s, 1, &st), 0);
        assert_int_equal(st.nic.rx_packets, 1);
        assert_int_equal(st.nic.rx_bytes, 40);
        /* No protocol module attached: IPv4 is an unknown protocol here. */
        assert_int_equal(st.nic.unknown_l3_protocol, 1);
        ns_nic_disable(env.s, 1);
        assert_int_equal(ns_channel_inject_bytes(env.ch[1], 0x0800, bytes, sizeof bytes), 0);
        ns_stack_get_stats(env.s, &st);
        assert_int_equal(st.nic.disabled_rx, 1);
        assert_int_equal(st.nic.rx_packets, 2);
        assert_int_equal(ns_test_packets_in_use(&env), 0);
        ns_test_env_destroy(&env);
}

static void test_addresses_primary_order_and_main(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, NULL);
        ns_test_add_nic(&env, 1, 1500, 0, 0);
        assert_int_equal(ns_nic_main_address(env.s, 1, &(struct ns_ip4_prefix){ 0 }),
                         NS_ERR_NOT_FOUND);
        assert_int_equal(ns_nic_add_address(env.s, 1, pfx(A(192, 0, 2, 1), 24)), 0);
        assert_int_equal(ns_nic_add_address(env.s, 1, pfx(A(192, 0, 2, 1), 24)),
                         NS_ERR_DUPLICATE_ADDRESS);
        assert_int_equal(ns_nic_add_address(env.s, 1, pfx(A(224, 0, 0, 5), 32)),
                         NS_ERR_BAD_ADDRESS);
        assert_int_equal(
            ns_nic_add_address_ex(env.s, 1, pfx(A(198, 51, 100, 1), 24), NS_PRIMARY_FIRST, false),
            0);
        assert_int_equal(
            ns_nic_add_address_ex(env.s, 1, pfx(A(203, 0, 113, 1), 24), NS_PRIMARY_NEVER, false),
            0);
        struct ns_ip4_prefix out[8];
        assert_int_equal(ns_nic_primary_addresses(env.s, 1, out, 8), 2);
        assert_int_equal(out[0].addr, A(198, 51, 100, 1));
        assert_int_equal(out[1].addr, A(192, 0, 2, 1));
        assert_int_equal(ns_nic_addresses(env.s, 1, out, 8), 3);
        struct ns_ip4_prefix main;
        assert_int_equal(ns_nic_main_address(env.s, 1, &main), 0);
        assert_int_equal(main.addr, A(198, 51, 100, 1));
        assert_int_equal(main.prefix_len, 24);
        assert_int_equal(ns_nic_remove_address(env.s, 1, A(198, 51, 100, 1)), 0);
        assert_int_equal(ns_nic_remove_address(env.s, 1, A(198, 51, 100, 1)),
                         NS_ERR_BAD_LOCAL_ADDRESS);
        assert_int_equal(ns_nic_main_address(env.s, 1, &main), 0);
        assert_int_equal(main.addr, A(192, 0, 2, 1));
        ns_test_env_destroy(&env);
}

static void test_connected_routes_follow_addresses(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, NULL);
        ns_test_add_nic(&env, 1, 1500, A(192, 0, 2, 1), 24);
        struct ns_route_entry r[4];
        assert_int_equal(ns_route_list(env.s, r, 4), 1);
        assert_int_equal(r[0].dst.addr, A(192, 0, 2, 0));
        assert_int_equal(r[0].dst.prefix_len, 24);
        assert_int_equal(r[0].gateway, 0);
        assert_int_equal(r[0].nic_id, 1);
        /* A second address of the subnet keeps the route when the first goes. */
        assert_int_equal(ns_nic_add_address(env.s, 1, pfx(A(192, 0, 2, 7), 24)), 0);
        assert_int_equal(ns_route_list(env.s, r, 4), 1);
        assert_int_equal(ns_nic_remove_address(env.s, 1, A(192, 0, 2, 1)), 0);
        assert_int_equal(ns_route_list(env.s, r, 4), 1);
        assert_int_equal(ns_nic_remove_address(env.s, 1, A(192, 0, 2, 7)), 0);
        assert_int_equal(ns_route_list(env.s, r, 4), 0);
        ns_test_env_destroy(&env);
}

static void test_route_api(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, NULL);
        ns_test_add_nic(&env, 1, 1500, A(192, 0, 2, 1), 24);
        struct ns_route_entry def = { .dst = pfx(0, 0), .gateway = A(192, 0, 2, 254), .nic_id = 1 };
        assert_int_equal(ns_route_add(env.s, &def), 0);
        assert_int_equal(ns_route_add(env.s, &def), NS_ERR_ALREADY_EXISTS);
        def.nic_id = 9;
        assert_int_equal(ns_route_add(env.s, &def), NS_ERR_UNKNOWN_NIC);
        assert_int_equal(ns_route_list(env.s, NULL, 0), 2);
        assert_int_equal(ns_route_del(env.s, pfx(0, 0), 0, 0), 0);
        assert_int_equal(ns_route_del(env.s, pfx(0, 0), 0, 0), NS_ERR_NOT_FOUND);
        /* Removing a NIC removes its routes. */
        ns_nic_remove(env.s, 1);
        assert_int_equal(ns_route_list(env.s, NULL, 0), 0);
        ns_test_env_destroy(&env);
}

static void test_find_route_via_gateway_and_source_choice(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, NULL);
        ns_test_add_nic(&env, 1, 1500, A(192, 0, 2, 1), 24);
        ns_test_add_nic(&env, 2, 1280, A(198, 51, 100, 1), 24);
        struct ns_route_entry def = { .dst = pfx(0, 0),
                                      .gateway = A(198, 51, 100, 254),
                                      .nic_id = 2 };
        assert_int_equal(ns_route_add(env.s, &def), 0);
        struct ns_path p;
        assert_int_equal(ns__stack_find_route(env.s, 0, 0, A(203, 0, 113, 9), false, &p), 0);
        assert_int_equal(p.nic->id, 2);
        assert_int_equal(p.local, A(198, 51, 100, 1));
        assert_int_equal(p.next_hop, A(198, 51, 100, 254));
        assert_int_equal(p.loop, NS_LOOP_OUT);
        assert_int_equal(p.mtu, 1280);
        ns__path_release(&p);
        /* On-link destination: the next hop is the destination itself. */
        assert_int_equal(ns__stack_find_route(env.s, 0, 0, A(192, 0, 2, 9), false, &p), 0);
        assert_int_equal(p.nic->id, 1);
        assert_int_equal(p.next_hop, A(192, 0, 2, 9));
        ns__path_release(&p);
        /* A local address that is not ours is refused unless spoofing. */
        assert_int_equal(
            ns__stack_find_route(env.s, 1, A(192, 0, 2, 77), A(192, 0, 2, 9), false, &p),
            NS_ERR_NO_ROUTE);
        ns_nic_set_spoofing(env.s, 1, true);
        assert_int_equal(
            ns__stack_find_route(env.s, 1, A(192, 0, 2, 77), A(192, 0, 2, 9), false, &p), 0);
        assert_int_equal(p.local, A(192, 0, 2, 77));
        ns__path_release(&p);
        /* A disabled NIC's routes are skipped. */
        ns_nic_disable(env.s, 2);
        assert_int_equal(ns__stack_find_route(env.s, 0, 0, A(203, 0, 113, 9), false, &p),
                         NS_ERR_NO_ROUTE);
        ns_test_env_destroy(&env);
}

static void test_find_route_loop_flags(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, NULL);
        ns_test_add_nic(&env, 1, 1500, A(192, 0, 2, 1), 24);
        ns_test_add_nic(&env, 2, 1500, A(198, 51, 100, 1), 24);
        struct ns_path p;
        /* Our own address on another NIC: a local route that only loops. */
        assert_int_equal(ns__stack_find_route(env.s, 0, 0, A(198, 51, 100, 1), false, &p), 0);
        assert_int_equal(p.loop, NS_LOOP_IN);
        assert_int_equal(p.nic->id, 2);
        ns__path_release(&p);
        /* Subnet broadcast: sent and looped. */
        assert_int_equal(ns__stack_find_route(env.s, 0, 0, A(192, 0, 2, 255), false, &p), 0);
        assert_int_equal(p.loop, NS_LOOP_OUT | NS_LOOP_IN);
        ns__path_release(&p);
        /* Limited broadcast and multicast need a NIC, not a route. */
        assert_int_equal(ns__stack_find_route(env.s, 0, 0, NS_IP4_BROADCAST, false, &p),
                         NS_ERR_NETWORK_UNREACHABLE);
        assert_int_equal(ns__stack_find_route(env.s, 1, 0, NS_IP4_BROADCAST, false, &p), 0);
        assert_int_equal(p.loop, NS_LOOP_OUT | NS_LOOP_IN);
        assert_int_equal(p.local, A(192, 0, 2, 1));
        ns__path_release(&p);
        assert_int_equal(ns__stack_find_route(env.s, 1, 0, A(239, 1, 2, 3), false, &p), 0);
        assert_int_equal(p.loop, NS_LOOP_OUT);
        ns__path_release(&p);
        assert_int_equal(ns__stack_find_route(env.s, 1, 0, A(239, 1, 2, 3), true, &p), 0);
        assert_int_equal(p.loop, NS_LOOP_OUT | NS_LOOP_IN);
        ns__path_release(&p);
        /* Loopback destinations with a NIC that has no such address. */
        assert_int_equal(ns__stack_find_route(env.s, 1, A(10, 9, 9, 9), A(127, 0, 0, 1), false, &p),
                         NS_ERR_BAD_LOCAL_ADDRESS);
        ns_test_env_destroy(&env);
}

static void test_loopback_nic_owns_its_subnet(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, NULL);
        struct ns_link *lo = ns_loopback_create(NULL, 65536);
        assert_int_equal(ns_nic_create(env.s, 1, lo, NULL), 0);
        assert_int_equal(ns_nic_add_address(env.s, 1, pfx(A(127, 0, 0, 1), 8)), 0);
        struct ns_nic *nic = ns__nic_get(env.s, 1);
        assert_true(nic->loopback);
        assert_true(ns__nic_has_address(nic, A(127, 1, 2, 3)));
        struct ns_path p;
        assert_int_equal(ns__stack_find_route(env.s, 0, 0, A(127, 0, 0, 9), false, &p), 0);
        assert_int_equal(p.nic->id, 1);
        ns__path_release(&p);
        ns_test_env_destroy(&env);
        ns_loopback_destroy(lo);
}

static void test_two_stacks_do_not_interfere(void **state)
{
        (void)state;
        struct ns_test_env a, b;
        ns_test_env_init(&a, NULL);
        ns_test_env_init(&b, NULL);
        ns_test_add_nic(&a, 1, 1500, A(192, 0, 2, 1), 24);
        ns_test_add_nic(&b, 1, 9000, A(198, 51, 100, 1), 24);
        static const uint8_t bytes[20] = { 0x45 };
        ns_channel_inject_bytes(a.ch[1], 0x0806, bytes, sizeof bytes);
        struct ns_stats sa, sb;
        ns_stack_get_stats(a.s, &sa);
        ns_stack_get_stats(b.s, &sb);
        assert_int_equal(sa.nic.rx_packets, 1);
        assert_int_equal(sb.nic.rx_packets, 0);
        struct ns_ip4_prefix m;
        ns_nic_main_address(b.s, 1, &m);
        assert_int_equal(m.addr, A(198, 51, 100, 1));
        ns_nic_main_address(a.s, 1, &m);
        assert_int_equal(m.addr, A(192, 0, 2, 1));
        ns_test_env_destroy(&a);
        ns_test_env_destroy(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create_requires_clock_and_rng),
                cmocka_unit_test(test_module_attach_failure_detaches_earlier_ones),
                cmocka_unit_test(test_nic_lifecycle),
                cmocka_unit_test(test_deliver_counts_disabled_and_unknown_protocol),
                cmocka_unit_test(test_addresses_primary_order_and_main),
                cmocka_unit_test(test_connected_routes_follow_addresses),
                cmocka_unit_test(test_route_api),
                cmocka_unit_test(test_find_route_via_gateway_and_source_choice),
                cmocka_unit_test(test_find_route_loop_flags),
                cmocka_unit_test(test_loopback_nic_owns_its_subnet),
                cmocka_unit_test(test_two_stacks_do_not_interfere),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
