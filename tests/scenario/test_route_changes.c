/*
 * Route, address and NIC changes between two sends take effect on the next
 * send: the routing table caches its last lookup and the send paths take
 * shortcuts for the usual case, and none of it may outlive a change. UDP
 * datagrams to a far host, and echo replies (bound to the NIC the request
 * came in on), are sent before and after each change.
 */
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/ipv4.h>
#include <netstack/udp.h>
#include "wire/icmp4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, &ns_module_udp, NULL };

#define US1  NS_IP4(192, 0, 2, 1)
#define GW1  NS_IP4(192, 0, 2, 254)
#define PEER NS_IP4(192, 0, 2, 7)
#define US2  NS_IP4(198, 51, 100, 1)
#define GW2  NS_IP4(198, 51, 100, 254)
#define FAR  NS_IP4(203, 0, 113, 9)

static struct ns_ip4_prefix P(ns_ip4 a, uint8_t len) {
        struct ns_ip4_prefix p = { .addr = a, .prefix_len = len };
        return p;
}

static void
route(struct ns_test_env *env, ns_ip4 dst, uint8_t len, ns_ip4 gw, uint32_t nic)
{
        struct ns_route_entry r = { .dst = P(dst, len), .gateway = gw, .nic_id = nic };
        assert_int_equal(ns_route_add(env->s, &r), 0);
}

static void env_up(struct ns_test_env *env, struct ns_udp_ep **ep)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, 1500, US1, 24);
        ns_test_add_nic(env, 2, 1500, US2, 24);
        route(env, 0, 0, GW1, 1);
        assert_int_equal(ns_udp_open(env->s, ep), 0);
        assert_int_equal(ns_udp_bind(*ep, NS_IP4_ANY, 4000, 0), 0);
}

static void env_down(struct ns_test_env *env, struct ns_udp_ep *ep)
{
        ns_udp_close(ep);
        ns_test_env_destroy(env);
}

/*
 * Sends one datagram to FAR and returns the NIC it left by (0: none), after
 * checking it went to FAR from that NIC's address with a good header.
 */
static uint32_t send_far(struct ns_test_env *env, struct ns_udp_ep *ep)
{
        (void)ns_udp_send(ep, FAR, 9, "x", 1);
        uint32_t out = 0;
        for (uint32_t id = 1; id <= 2; id++) {
                struct ns_pkt *p = ns_channel_read(env->ch[id]);
                if (!p)
                        continue;
                assert_int_equal(out, 0);
                out = id;
                const uint8_t *h = ns_pkt_data(p);
                assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(p)), NS_IPV4_VALID);
                assert_true(ns_ipv4_checksum_ok(h, ns_ipv4_hdr_len(h)));
                assert_int_equal(ns_ipv4_dst(h), FAR);
                assert_int_equal(ns_ipv4_src(h), id == 1 ? US1 : US2);
                ns_pkt_free(p);
        }
        return out;
}

static void test_route_added_and_removed(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        assert_int_equal(send_far(&env, ep), 1);
        assert_int_equal(send_far(&env, ep), 1);
        route(&env, NS_IP4(203, 0, 113, 0), 24, GW2, 2);
        assert_int_equal(send_far(&env, ep), 2);
        assert_int_equal(send_far(&env, ep), 2);
        assert_int_equal(ns_route_del(env.s, P(NS_IP4(203, 0, 113, 0), 24), 0, 0), 0);
        assert_int_equal(send_far(&env, ep), 1);
        /* No route at all: nothing leaves, and a new one is used at once. */
        assert_int_equal(ns_route_del(env.s, P(0, 0), 0, 0), 0);
        assert_int_equal(send_far(&env, ep), 0);
        route(&env, 0, 0, GW2, 2);
        assert_int_equal(send_far(&env, ep), 2);
        env_down(&env, ep);
}

static void test_nic_disabled_enabled_and_removed(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        route(&env, NS_IP4(203, 0, 113, 0), 24, GW2, 2);
        assert_int_equal(send_far(&env, ep), 2);
        assert_int_equal(ns_nic_disable(env.s, 2), 0);
        assert_int_equal(send_far(&env, ep), 1);
        assert_int_equal(ns_nic_enable(env.s, 2), 0);
        assert_int_equal(send_far(&env, ep), 2);
        assert_int_equal(ns_nic_remove(env.s, 2), 0);
        assert_int_equal(send_far(&env, ep), 1);
        assert_int_equal(ns_nic_disable(env.s, 1), 0);
        assert_int_equal(send_far(&env, ep), 0);
        ns_channel_destroy(env.ch[2]);
        env.ch[2] = NULL;
        env_down(&env, ep);
}

static void test_address_removed_and_added(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        route(&env, NS_IP4(203, 0, 113, 0), 24, GW2, 2);
        assert_int_equal(send_far(&env, ep), 2);
        /* NIC 2 has no source address left: its route is passed over. */
        assert_int_equal(ns_nic_remove_address(env.s, 2, US2), 0);
        assert_int_equal(send_far(&env, ep), 1);
        assert_int_equal(ns_nic_add_address(env.s, 2, P(US2, 24)), 0);
        assert_int_equal(send_far(&env, ep), 2);
        env_down(&env, ep);
}

/* An echo request from PEER to US1 in on NIC 1; true when a reply came out of NIC 1. */
static bool echo_answered(struct ns_test_env *env)
{
        uint8_t icmp[16], buf[64];
        size_t n = ns_icmp4_emit_echo(icmp, sizeof(icmp), NS_ICMP4_ECHO, 0x77, 9,
                                      (const uint8_t *)"abcdefgh", 8);
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(20 + n),
                                    .id = 1,
                                    .ttl = 64,
                                    .proto = NS_IPV4_PROTO_ICMP,
                                    .src = PEER,
                                    .dst = US1 };
        assert_int_equal(ns_ipv4_emit(buf, 20, &f), 20);
        memcpy(buf + 20, icmp, n);
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, (uint32_t)(20 + n)), 0);
        assert_null(ns_channel_read(env->ch[2]));
        struct ns_pkt *r = ns_channel_read(env->ch[1]);
        if (!r)
                return false;
        const uint8_t *h = ns_pkt_data(r);
        assert_true(ns_ipv4_checksum_ok(h, ns_ipv4_hdr_len(h)));
        assert_int_equal(ns_ipv4_src(h), US1);
        assert_int_equal(ns_ipv4_dst(h), PEER);
        assert_true(ns_icmp4_checksum_ok(h + 20, ns_pkt_len(r) - 20));
        assert_int_equal(ns_icmp4_type(h + 20), NS_ICMP4_ECHO_REPLY);
        ns_pkt_free(r);
        return true;
}

static void test_echo_reply_follows_route_changes(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        assert_true(echo_answered(&env));
        assert_true(echo_answered(&env));
        /* Without NIC 1's connected route (or the default) the reply has no way out of NIC 1. */
        assert_int_equal(ns_route_del(env.s, P(NS_IP4(192, 0, 2, 0), 24), 0, 1), 0);
        assert_int_equal(ns_route_del(env.s, P(0, 0), 0, 0), 0);
        struct ns_stats before;
        ns_stack_get_stats(env.s, &before);
        assert_false(echo_answered(&env));
        struct ns_stats after;
        ns_stack_get_stats(env.s, &after);
        assert_int_equal(after.icmp.sent_dropped, before.icmp.sent_dropped + 1);
        /* A route to PEER through NIC 2 does not count: the reply is bound to NIC 1. */
        route(&env, NS_IP4(192, 0, 2, 0), 24, GW2, 2);
        assert_false(echo_answered(&env));
        route(&env, NS_IP4(192, 0, 2, 0), 24, 0, 1);
        assert_true(echo_answered(&env));
        /* A more specific route to PEER out of NIC 1 via a gateway is still NIC 1. */
        route(&env, PEER, 32, GW1, 1);
        assert_true(echo_answered(&env));
        /* NIC 1 down and up again. */
        assert_int_equal(ns_nic_disable(env.s, 1), 0);
        assert_false(echo_answered(&env));
        assert_int_equal(ns_nic_enable(env.s, 1), 0);
        assert_true(echo_answered(&env));
        env_down(&env, ep);
}

/* Datagrams the UDP endpoint received. */
static void count_rx(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_datagram *d)
{
        (void)ep;
        (void)d;
        (*(unsigned *)ctx)++;
}

/* A datagram to one of our own addresses is looped while the address is ours, sent after. */
static void test_send_to_an_address_that_stops_being_ours(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        unsigned rx = 0;
        ns_udp_set_recv_cb(ep, count_rx, &rx);
        assert_int_equal(ns_udp_send(ep, US2, 4000, "x", 1), 0);
        assert_int_equal(rx, 1);
        assert_int_equal(ns_channel_queued(env.ch[1]) + ns_channel_queued(env.ch[2]), 0);
        assert_int_equal(ns_nic_remove_address(env.s, 2, US2), 0);
        assert_int_equal(ns_udp_send(ep, US2, 4000, "x", 1), 0);
        assert_int_equal(rx, 1);
        /* NIC 2 has no source address now: out by the default route. */
        struct ns_pkt *p = ns_channel_read(env.ch[1]);
        assert_non_null(p);
        assert_int_equal(ns_ipv4_dst(ns_pkt_data(p)), US2);
        ns_pkt_free(p);
        assert_int_equal(ns_nic_add_address(env.s, 2, P(US2, 24)), 0);
        assert_int_equal(ns_udp_send(ep, US2, 4000, "x", 1), 0);
        assert_int_equal(rx, 2);
        assert_int_equal(ns_channel_queued(env.ch[1]) + ns_channel_queued(env.ch[2]), 0);
        env_down(&env, ep);
}

/* A datagram for a router, in on NIC 1; returns what ip.forwarded moved by. */
static uint64_t inject_fwd(struct ns_test_env *env, ns_ip4 src, ns_ip4 dst)
{
        static const uint8_t payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        struct ipv4_spec spec = { .src = src,
                                  .dst = dst,
                                  .proto = 253,
                                  .ttl = 64,
                                  .payload = payload,
                                  .payload_len = sizeof(payload) };
        uint8_t buf[64];
        size_t n = ipv4_build(buf, sizeof(buf), &spec);
        struct ns_stats before, after;
        ns_stack_get_stats(env->s, &before);
        assert_int_equal(ns_channel_inject_bytes(env->ch[1], 0x0800, buf, (uint32_t)n), 0);
        ns_stack_get_stats(env->s, &after);
        return after.ip.forwarded - before.ip.forwarded;
}

/* Forwarding asks which addresses are ours (destination and source) on every packet. */
static void test_forwarding_follows_address_changes(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_FORWARDING, 1), 0);
        struct capture c = { 0 };
        capture_register(env.s, 253, &c);
        route(&env, NS_IP4(203, 0, 113, 0), 24, GW2, 2);

        /* To NIC 2's address: delivered here, not forwarded. */
        assert_int_equal(inject_fwd(&env, PEER, US2), 0);
        assert_int_equal(c.count, 1);
        assert_int_equal(ns_channel_queued(env.ch[2]), 0);
        /* From NIC 2's address: a martian source. */
        assert_int_equal(inject_fwd(&env, US2, FAR), 0);
        assert_int_equal(ns_channel_queued(env.ch[2]), 0);

        assert_int_equal(ns_nic_remove_address(env.s, 2, US2), 0);
        route(&env, NS_IP4(198, 51, 100, 0), 24, 0, 2);
        assert_int_equal(inject_fwd(&env, PEER, US2), 1);
        assert_int_equal(c.count, 1);
        assert_int_equal(inject_fwd(&env, US2, FAR), 1);
        assert_int_equal(ns_channel_queued(env.ch[2]), 2);
        ns_test_drain_all(&env);

        assert_int_equal(ns_nic_add_address(env.s, 2, P(US2, 24)), 0);
        assert_int_equal(inject_fwd(&env, PEER, US2), 0);
        assert_int_equal(c.count, 2);
        assert_int_equal(inject_fwd(&env, US2, FAR), 0);
        assert_int_equal(ns_channel_queued(env.ch[2]), 0);
        /* Another address of NIC 2's subnet is still forwarded. */
        assert_int_equal(inject_fwd(&env, PEER, NS_IP4(198, 51, 100, 2)), 1);
        assert_int_equal(c.count, 2);
        env_down(&env, ep);
}

/*
 * NICs created after forwarding started: an address of a new NIC is ours
 * at once, and so is any address of a new loopback NIC's subnets (which
 * the per-NIC filters do not hold).
 */
static void test_forwarding_sees_new_nics(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        assert_int_equal(ns_ipv4_set_param(env.s, NS_IPV4_PARAM_FORWARDING, 1), 0);
        struct capture c = { 0 };
        capture_register(env.s, 253, &c);
        route(&env, NS_IP4(203, 0, 113, 0), 24, GW2, 2);
        assert_int_equal(inject_fwd(&env, PEER, FAR), 1);
        assert_int_equal(inject_fwd(&env, PEER, FAR), 1);
        ns_test_add_nic(&env, 3, 1500, FAR, 32);
        assert_int_equal(inject_fwd(&env, PEER, FAR), 0);
        assert_int_equal(c.count, 1);
        /* 10.9.0.0/16 is nobody's yet: forwarded by the default route. */
        const ns_ip4 lo_host = NS_IP4(10, 9, 5, 5);
        assert_int_equal(inject_fwd(&env, PEER, lo_host), 1);
        assert_int_equal(c.count, 1);
        env.ch[4] = ns_channel_create(NULL, 1500, 16, NS_LINK_CAP_LOOPBACK);
        assert_non_null(env.ch[4]);
        assert_int_equal(ns_nic_create(env.s, 4, ns_channel_link(env.ch[4]), NULL), 0);
        assert_int_equal(ns_nic_add_address(env.s, 4, P(NS_IP4(10, 9, 0, 1), 16)), 0);
        assert_int_equal(inject_fwd(&env, PEER, lo_host), 0);
        assert_int_equal(c.count, 2);
        assert_int_equal(c.last_nic, 4);
        ns_test_drain_all(&env);
        env_down(&env, ep);
}

/*
 * Changes that touch no route: an address that makes the destination ours
 * on a NIC created after the last send, or on one that existed before it,
 * and a new first-primary address that becomes the source.
 */
static void test_changes_without_a_route_change(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        unsigned rx = 0;
        ns_udp_set_recv_cb(ep, count_rx, &rx);
        assert_int_equal(send_far(&env, ep), 1);
        assert_int_equal(send_far(&env, ep), 1);
        /* A new NIC that owns FAR (a /32: no connected route): looped from now on. */
        ns_test_add_nic(&env, 3, 1500, 0, 0);
        assert_int_equal(send_far(&env, ep), 1);
        assert_int_equal(ns_nic_add_address(env.s, 3, P(FAR, 32)), 0);
        assert_int_equal(send_far(&env, ep), 0);
        assert_int_equal(rx, 0); /* port 9: nobody there, but nothing left a link */
        assert_int_equal(ns_nic_remove_address(env.s, 3, FAR), 0);
        assert_int_equal(send_far(&env, ep), 1);
        assert_int_equal(send_far(&env, ep), 1);
        /* The same on NIC 2, which existed before those sends. */
        assert_int_equal(ns_nic_add_address(env.s, 2, P(FAR, 32)), 0);
        assert_int_equal(send_far(&env, ep), 0);
        assert_int_equal(ns_nic_remove_address(env.s, 2, FAR), 0);
        assert_int_equal(send_far(&env, ep), 1);
        /* A NIC removed and another created under the same id. */
        assert_int_equal(ns_nic_remove(env.s, 3), 0);
        ns_channel_destroy(env.ch[3]);
        env.ch[3] = NULL;
        assert_int_equal(send_far(&env, ep), 1);
        ns_test_add_nic(&env, 3, 1500, 0, 0);
        assert_int_equal(ns_nic_add_address(env.s, 3, P(FAR, 32)), 0);
        assert_int_equal(send_far(&env, ep), 0);
        env_down(&env, ep);
}

/* The source of an unbound send follows the primary addresses. */
static void test_source_follows_primary_changes(void **state)
{
        (void)state;
        struct ns_test_env env;
        struct ns_udp_ep *ep;
        env_up(&env, &ep);
        const ns_ip4 other = NS_IP4(192, 0, 2, 77);
        for (int round = 0; round < 2; round++) {
                assert_int_equal(ns_udp_send(ep, FAR, 9, "x", 1), 0);
                struct ns_pkt *p = ns_channel_read(env.ch[1]);
                assert_non_null(p);
                assert_int_equal(ns_ipv4_src(ns_pkt_data(p)), US1);
                ns_pkt_free(p);
        }
        /* A /32 first-primary address: no route changes, the source does. */
        struct ns_ip4_prefix o = P(other, 32);
        assert_int_equal(ns_nic_add_address_ex(env.s, 1, o, NS_PRIMARY_FIRST, false), 0);
        assert_int_equal(ns_udp_send(ep, FAR, 9, "x", 1), 0);
        struct ns_pkt *p = ns_channel_read(env.ch[1]);
        assert_non_null(p);
        assert_int_equal(ns_ipv4_src(ns_pkt_data(p)), other);
        ns_pkt_free(p);
        assert_int_equal(ns_nic_remove_address(env.s, 1, other), 0);
        assert_int_equal(ns_udp_send(ep, FAR, 9, "x", 1), 0);
        p = ns_channel_read(env.ch[1]);
        assert_non_null(p);
        assert_int_equal(ns_ipv4_src(ns_pkt_data(p)), US1);
        ns_pkt_free(p);
        env_down(&env, ep);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_route_added_and_removed),
                cmocka_unit_test(test_nic_disabled_enabled_and_removed),
                cmocka_unit_test(test_address_removed_and_added),
                cmocka_unit_test(test_echo_reply_follows_route_changes),
                cmocka_unit_test(test_send_to_an_address_that_stops_being_ours),
                cmocka_unit_test(test_forwarding_follows_address_changes),
                cmocka_unit_test(test_changes_without_a_route_change),
                cmocka_unit_test(test_forwarding_sees_new_nics),
                cmocka_unit_test(test_source_follows_primary_changes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
