/*
 * IPv4 send scenarios over the channel link: the seed's WritePacket and
 * WritePackets counters under OUTPUT filters (TestWriteStats), DNAT back to
 * ourselves (the seed's NatDone path), local loops, IP IDs (RFC 6864),
 * calculateNetworkMTU, and source address selection (TestExcludeBroadcast,
 * RFC 1122 3.3.4.3).
 */
#include <string.h>

#include "ns_test.h"
#include "ipv4_build.h"
#include <netstack/err.h>
#include <netstack/ipv4.h>

#include "core/filter.h"
#include "ipv4/ipv4.h"
#include "wire/ipv4.h"

static const struct ns_module *const mods[] = { &ns_module_ipv4, NULL };

#define LOCAL  NS_IP4(192, 0, 2, 1)
#define BCAST  NS_IP4(192, 0, 2, 255)
#define REMOTE NS_IP4(203, 0, 113, 9)
#define PROTO  253

static void setup(struct ns_test_env *env, uint32_t mtu)
{
        ns_test_env_init(env, mods);
        ns_test_add_nic(env, 1, mtu, LOCAL, 24);
        struct ns_route_entry r = { .nic_id = 1, .gateway = NS_IP4(192, 0, 2, 254) };
        assert_int_equal(ns_route_add(env->s, &r), 0);
}

static void teardown(struct ns_test_env *env)
{
        ns_test_drain_all(env);
        assert_int_equal(ns_test_packets_in_use(env), 0);
        ns_test_env_destroy(env);
}

/* A transport payload of len bytes whose first byte is tag. */
static struct ns_pkt *payload(struct ns_test_env *env, uint8_t tag, uint32_t len)
{
        struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(env->s), NS_IPV4_TX_HEADROOM, len);
        assert_non_null(pkt);
        uint8_t *d = ns_pkt_put(pkt, len);
        for (uint32_t i = 0; i < len; i++)
                d[i] = (uint8_t)(tag + i);
        return pkt;
}

static const struct ns_ipv4_params params = { .proto = PROTO, .ttl = 64 };

/* ns__ipv4_write_packet along the route to remote out of nic_id (0: any). */
static int send_one(struct ns_test_env *env, uint32_t nic_id, ns_ip4 remote, uint8_t tag,
                    uint32_t len)
{
        struct ns_path path;
        int err = ns__stack_find_route(env->s, nic_id, NS_IP4_ANY, remote, false, &path);
        assert_int_equal(err, 0);
        err = ns__ipv4_write_packet(ns__ipv4_of(env->s), &path, &params, payload(env, tag, len));
        ns__path_release(&path);
        return err;
}

static int send_list(struct ns_test_env *env, ns_ip4 remote, uint32_t n, uint32_t len)
{
        struct ns_path path;
        assert_int_equal(ns__stack_find_route(env->s, 0, NS_IP4_ANY, remote, false, &path), 0);
        struct ns_pkt_list l;
        ns_pkt_list_init(&l);
        for (uint32_t i = 0; i < n; i++)
                ns_pkt_list_push_back(&l, payload(env, (uint8_t)i, len));
        int r = ns__ipv4_write_packets(ns__ipv4_of(env->s), &path, &params, &l);
        assert_true(ns_pkt_list_empty(&l));
        ns__path_release(&path);
        return r;
}

/* ---- TestWriteStats: OUTPUT filter accept-all / drop-all / drop-some ---- */

enum filter_mode { FILTER_NONE, FILTER_ACCEPT_ALL, FILTER_DROP_ALL, FILTER_DROP_ODD };

static enum ns_verdict output_hook(void *ctx, struct ns_pkt *pkt, const struct ns_filter_info *info)
{
        enum filter_mode m = *(enum filter_mode *)ctx;
        assert_int_equal(info->hook, NS_HOOK_OUTPUT);
        assert_int_equal(info->out_nic, 1);
        const uint8_t *h = ns_pkt_data(pkt);
        assert_int_equal(ns_ipv4_version(h), 4); /* the header is already there */
        switch (m) {
        case FILTER_DROP_ALL:
                return NS_VERDICT_DROP;
        case FILTER_DROP_ODD:
                return (h[ns_ipv4_hdr_len(h)] & 1) ? NS_VERDICT_DROP : NS_VERDICT_ACCEPT;
        default:
                return NS_VERDICT_ACCEPT;
        }
}

struct write_row {
        const char *name;
        enum filter_mode mode;
        uint32_t sent;
        const char *deltas;
};

static const struct write_row write_rows[] = {
        { "no filter", FILTER_NONE, 4, "ip.packets_sent=4" },
        { "accept all", FILTER_ACCEPT_ALL, 4, "ip.packets_sent=4" },
        { "drop all", FILTER_DROP_ALL, 0, "ip.iptables_output_dropped=4" },
        { "drop some", FILTER_DROP_ODD, 2, "ip.packets_sent=2 ip.iptables_output_dropped=2" },
};

static void test_write_packet_stats(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(write_rows) / sizeof(write_rows[0]); i++) {
                const struct write_row *row = &write_rows[i];
                for (int batch = 0; batch < 2; batch++) {
                        print_message("row: %s (%s)\n", row->name,
                                      batch ? "write_packets" : "write_packet");
                        struct ns_test_env env;
                        setup(&env, 1500);
                        enum filter_mode mode = row->mode;
                        if (mode != FILTER_NONE)
                                assert_int_equal(ns__filter_set_hook(&env.s->filter, NS_HOOK_OUTPUT,
                                                                     output_hook, &mode),
                                                 0);
                        struct ns_stats before, after;
                        ns_stack_get_stats(env.s, &before);
                        if (batch) {
                                /* Dropped packets are not errors: they count as handled (seed). */
                                assert_int_equal(send_list(&env, REMOTE, 4, 32), 4);
                        } else {
                                for (uint8_t k = 0; k < 4; k++)
                                        assert_int_equal(send_one(&env, 0, REMOTE, k, 32), 0);
                        }
                        ns_stack_get_stats(env.s, &after);
                        expect_deltas(&before, &after, row->deltas);
                        assert_int_equal(ns_channel_queued(env.ch[1]), row->sent);
                        struct ns_stats nic;
                        ns_nic_get_stats(env.s, 1, &nic);
                        assert_int_equal(nic.ip.packets_sent, row->sent);
                        assert_int_equal(nic.ip.iptables_output_dropped, 4 - row->sent);
                        for (struct ns_pkt *p; (p = ns_channel_read(env.ch[1])) != NULL;) {
                                const uint8_t *h = ns_pkt_data(p);
                                assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(p)), NS_IPV4_VALID);
                                assert_true(ns_ipv4_checksum_ok(h, 20));
                                assert_int_equal(ns_ipv4_src(h), LOCAL);
                                assert_int_equal(ns_ipv4_dst(h), REMOTE);
                                assert_int_equal(ns_ipv4_proto(h), PROTO);
                                assert_int_equal(ns_ipv4_ttl(h), 64);
                                assert_int_equal(ns_ipv4_total_len(h), 52);
                                if (mode == FILTER_DROP_ODD)
                                        assert_int_equal(h[20] & 1, 0);
                                ns_pkt_free(p);
                        }
                        teardown(&env);
                }
        }
}

/* The link refuses what does not fit its queue: those are outgoing errors. */
static void test_write_packets_link_errors(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        env.ch[1] = ns_channel_create(NULL, 1500, 1, 0);
        assert_int_equal(ns_nic_create(env.s, 1, ns_channel_link(env.ch[1]), NULL), 0);
        struct ns_ip4_prefix a = { LOCAL, 24 };
        assert_int_equal(ns_nic_add_address(env.s, 1, a), 0);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        assert_int_equal(send_list(&env, NS_IP4(192, 0, 2, 7), 3, 16), 1);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after, "ip.packets_sent=1 ip.outgoing_packet_errors=2");
        assert_int_equal(after.nic.tx_errors - before.nic.tx_errors, 2);
        teardown(&env);
}

static enum ns_verdict drop_all(void *ctx, struct ns_pkt *pkt, const struct ns_filter_info *info)
{
        (void)ctx;
        (void)pkt;
        (void)info;
        return NS_VERDICT_DROP;
}

static void test_postrouting_drop(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env, 1500);
        assert_int_equal(ns__filter_set_hook(&env.s->filter, NS_HOOK_POSTROUTING, drop_all, NULL),
                         0);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        assert_int_equal(send_one(&env, 0, REMOTE, 0, 8), 0);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after, "ip.iptables_postrouting_dropped=1");
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        teardown(&env);
}

/* ---- DNAT by an OUTPUT rule to one of our addresses (seed NatDone) ------ */

static void test_output_dnat_to_self_delivers_locally(void **state)
{
        (void)state;
        for (int batch = 0; batch < 2; batch++) {
                struct ns_test_env env;
                setup(&env, 1500);
                struct capture cap;
                capture_register(env.s, PROTO, &cap);
                struct ns_filter_rule rule = { .dst = { REMOTE, 32 },
                                               .action = NS_FILTER_DNAT,
                                               .nat_addr = LOCAL };
                assert_int_equal(ns__filter_add_rule(&env.s->filter, NS_HOOK_OUTPUT, &rule, NULL),
                                 0);
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                if (batch)
                        assert_int_equal(send_list(&env, REMOTE, 2, 12), 2);
                else
                        assert_int_equal(send_one(&env, 0, REMOTE, 5, 12), 0);
                ns_stack_get_stats(env.s, &after);
                uint32_t n = batch ? 2 : 1;
                expect_deltas(
                    &before, &after,
                    batch
                        ? "ip.packets_received=2 ip.valid_packets_received=2 ip.packets_delivered=2"
                        : "ip.packets_received=1 ip.valid_packets_received=1 "
                          "ip.packets_delivered=1");
                assert_int_equal(cap.count, n);
                assert_int_equal(cap.last_len, 12);
                assert_int_equal(ns_ipv4_dst(cap.last_ip), LOCAL);
                assert_int_equal(ns_ipv4_src(cap.last_ip), LOCAL);
                assert_true(ns_ipv4_checksum_ok(cap.last_ip, 20));
                assert_int_equal(ns_channel_queued(env.ch[1]), 0);
                teardown(&env);
        }
}

/* ---- loops ---------------------------------------------------------------- */

static void test_packet_to_own_address_loops_without_the_link(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env, 1500);
        struct capture cap;
        capture_register(env.s, PROTO, &cap);
        struct ns_path path;
        assert_int_equal(ns__stack_find_route(env.s, 0, NS_IP4_ANY, LOCAL, false, &path), 0);
        assert_int_equal(path.loop, NS_LOOP_IN);
        ns__path_release(&path);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        assert_int_equal(send_one(&env, 0, LOCAL, 3, 10), 0);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after,
                      "ip.packets_received=1 ip.valid_packets_received=1 ip.packets_delivered=1");
        assert_int_equal(after.nic.tx_packets, before.nic.tx_packets);
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        assert_int_equal(cap.count, 1);
        assert_true(cap.last_flags & NS_PKT_F_LOOPED);
        assert_int_equal(cap.last[0], 3);
        teardown(&env);
}

static void test_broadcast_is_sent_and_looped(void **state)
{
        (void)state;
        const struct {
                const char *name;
                uint32_t nic;
                ns_ip4 dst;
        } rows[] = {
                { "limited broadcast", 1, NS_IP4_BROADCAST },
                { "subnet broadcast", 0, BCAST },
        };
        for (size_t i = 0; i < 2; i++) {
                print_message("row: %s\n", rows[i].name);
                struct ns_test_env env;
                setup(&env, 1500);
                struct capture cap;
                capture_register(env.s, PROTO, &cap);
                struct ns_stats before, after;
                ns_stack_get_stats(env.s, &before);
                assert_int_equal(send_one(&env, rows[i].nic, rows[i].dst, 1, 10), 0);
                ns_stack_get_stats(env.s, &after);
                expect_deltas(&before, &after,
                              "ip.packets_sent=1 ip.packets_received=1 ip.valid_packets_received=1 "
                              "ip.packets_delivered=1 "
                              "ip.broadcast_packets_received=1 ip.broadcast_packets_sent=1");
                assert_int_equal(cap.count, 1);
                assert_true(cap.last_flags & NS_PKT_F_LOCAL_BCAST);
                struct ns_pkt *p = ns_channel_read(env.ch[1]);
                assert_non_null(p);
                assert_int_equal(ns_ipv4_dst(ns_pkt_data(p)), rows[i].dst);
                assert_int_equal(ns_ipv4_src(ns_pkt_data(p)), LOCAL);
                ns_pkt_free(p);
                teardown(&env);
        }
}

/* ---- IP IDs (RFC 6864 section 4) --------------------------------------- */

static uint16_t sent_id(struct ns_test_env *env)
{
        struct ns_pkt *p = ns_channel_read(env->ch[1]);
        assert_non_null(p);
        uint16_t id = ns_ipv4_id(ns_pkt_data(p));
        ns_pkt_free(p);
        return id;
}

static void test_ids_per_flow(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env, 1500);
        const ns_ip4 other = NS_IP4(203, 0, 113, 10);
        send_one(&env, 0, REMOTE, 0, 8);
        uint16_t a1 = sent_id(&env);
        send_one(&env, 0, REMOTE, 0, 8);
        uint16_t a2 = sent_id(&env);
        /* Another flow between: its own bucket, so A's counter does not move. */
        send_one(&env, 0, other, 0, 8);
        uint16_t b1 = sent_id(&env);
        send_one(&env, 0, REMOTE, 0, 8);
        uint16_t a3 = sent_id(&env);
        assert_int_equal(a2, (uint16_t)(a1 + 1));
        assert_int_equal(a3, (uint16_t)(a2 + 1));
        assert_int_not_equal(b1, (uint16_t)(a2 + 1));
        teardown(&env);
}

static struct ns_seeded_rng other_rng;

static void seed_two(struct ns_stack_config *cfg)
{
        ns_seeded_rng_init(&other_rng, 2);
        cfg->rng = ns_seeded_rng_as_rng(&other_rng);
}

static void test_ids_differ_between_seeds(void **state)
{
        (void)state;
        struct ns_test_env a, b;
        setup(&a, 1500);
        ns_test_env_init_cfg(&b, mods, seed_two);
        ns_test_add_nic(&b, 1, 1500, LOCAL, 24);
        struct ns_route_entry r = { .nic_id = 1, .gateway = NS_IP4(192, 0, 2, 254) };
        assert_int_equal(ns_route_add(b.s, &r), 0);
        uint16_t ids_a[3], ids_b[3];
        for (int i = 0; i < 3; i++) {
                send_one(&a, 0, REMOTE, 0, 8);
                send_one(&b, 0, REMOTE, 0, 8);
                ids_a[i] = sent_id(&a);
                ids_b[i] = sent_id(&b);
        }
        /* Unpredictable starts (RFC 6864 4.2), consecutive within the flow. */
        assert_int_not_equal(ids_a[0], ids_b[0]);
        assert_int_equal(ids_a[2], (uint16_t)(ids_a[0] + 2));
        assert_int_equal(ids_b[2], (uint16_t)(ids_b[0] + 2));
        teardown(&a);
        teardown(&b);
}

/* ---- MTU ------------------------------------------------------------------- */

static void test_network_mtu(void **state)
{
        (void)state;
        const struct {
                const char *name;
                uint32_t link, hdr;
                int err;
                uint32_t mtu;
        } rows[] = {
                /* RFC 791: every host takes a 68-byte datagram. */
                { "link MTU below 68", 67, 20, NS_ERR_INVALID_ENDPOINT_STATE, 0 },
                { "link MTU 68", 68, 20, 0, 48 },
                /* RFC 791 3.1: the header is at most 60 bytes. */
                { "header above 60", 1500, 64, NS_ERR_MALFORMED_HEADER, 0 },
                { "header 60", 1500, 60, 0, 1440 },
                { "link MTU above 65535", 70000, 20, 0, 65515 },
        };
        for (size_t i = 0; i < 5; i++) {
                print_message("row: %s\n", rows[i].name);
                uint32_t mtu = 12345;
                assert_int_equal(ns__ipv4_network_mtu(rows[i].link, rows[i].hdr, &mtu),
                                 rows[i].err);
                if (!rows[i].err)
                        assert_int_equal(mtu, rows[i].mtu);
        }
}

static void test_link_mtu_below_68_refuses_to_send(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env, 60);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        assert_int_equal(send_one(&env, 0, REMOTE, 0, 8), NS_ERR_INVALID_ENDPOINT_STATE);
        assert_true(send_list(&env, REMOTE, 2, 8) < 0);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after, "ip.outgoing_packet_errors=3");
        assert_int_equal(ns_channel_queued(env.ch[1]), 0);
        teardown(&env);
}

static void test_header_too_big_refused(void **state)
{
        (void)state;
        struct ns_test_env env;
        setup(&env, 1500);
        uint8_t opts[44] = { 0 };
        struct ns_ipv4_params big = {
                .proto = PROTO, .ttl = 64, .options = opts, .options_len = 44
        };
        struct ns_path path;
        assert_int_equal(ns__stack_find_route(env.s, 0, NS_IP4_ANY, REMOTE, false, &path), 0);
        struct ns_stats before, after;
        ns_stack_get_stats(env.s, &before);
        assert_int_equal(
            ns__ipv4_write_packet(ns__ipv4_of(env.s), &path, &big, payload(&env, 0, 8)),
            NS_ERR_MESSAGE_TOO_LONG);
        /* 65516 bytes of payload do not fit in a 65535-byte datagram. */
        assert_int_equal(
            ns__ipv4_write_packet(ns__ipv4_of(env.s), &path, &params, payload(&env, 0, 65516)),
            NS_ERR_MESSAGE_TOO_LONG);
        ns__path_release(&path);
        ns_stack_get_stats(env.s, &after);
        expect_deltas(&before, &after, "ip.outgoing_packet_errors=2");
        teardown(&env);
}

/* ---- source address selection ------------------------------------------ */

struct src_row {
        const char *name;
        struct ns_ip4_prefix a, b;
        enum ns_primary b_primary;
        bool a_deprecated;
        ns_ip4 remote;
        ns_ip4 want;
};

static const struct src_row src_rows[] = {
        { "first added primary wins",
          { LOCAL, 24 },
          { NS_IP4(192, 0, 2, 2), 24 },
          NS_PRIMARY_CAN_BE,
          false,
          REMOTE,
          LOCAL },
        { "FIRST_PRIMARY goes in front",
          { LOCAL, 24 },
          { NS_IP4(192, 0, 2, 2), 24 },
          NS_PRIMARY_FIRST,
          false,
          REMOTE,
          NS_IP4(192, 0, 2, 2) },
        { "never-primary is not chosen",
          { LOCAL, 24 },
          { NS_IP4(192, 0, 2, 2), 24 },
          NS_PRIMARY_NEVER,
          false,
          REMOTE,
          LOCAL },
        /* RFC 4862-style preference for non-deprecated addresses. */
        { "deprecated loses",
          { LOCAL, 24 },
          { NS_IP4(192, 0, 2, 2), 24 },
          NS_PRIMARY_CAN_BE,
          true,
          REMOTE,
          NS_IP4(192, 0, 2, 2) },
        /* RFC 1122 3.3.4.3: prefer the address on the destination's subnet. */
        { "same subnet preferred",
          { LOCAL, 24 },
          { NS_IP4(198, 51, 100, 1), 24 },
          NS_PRIMARY_CAN_BE,
          false,
          NS_IP4(198, 51, 100, 7),
          NS_IP4(198, 51, 100, 1) },
        { "same subnet preferred (first)",
          { LOCAL, 24 },
          { NS_IP4(198, 51, 100, 1), 24 },
          NS_PRIMARY_CAN_BE,
          false,
          NS_IP4(192, 0, 2, 7),
          LOCAL },
};

static void test_source_address_selection(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(src_rows) / sizeof(src_rows[0]); i++) {
                const struct src_row *row = &src_rows[i];
                print_message("row: %s\n", row->name);
                struct ns_test_env env;
                ns_test_env_init(&env, mods);
                ns_test_add_nic(&env, 1, 1500, 0, 0);
                assert_int_equal(
                    ns_nic_add_address_ex(env.s, 1, row->a, NS_PRIMARY_CAN_BE, row->a_deprecated),
                    0);
                assert_int_equal(ns_nic_add_address_ex(env.s, 1, row->b, row->b_primary, false), 0);
                struct ns_route_entry r = { .nic_id = 1, .gateway = NS_IP4(192, 0, 2, 254) };
                assert_int_equal(ns_route_add(env.s, &r), 0);
                struct ns_path path;
                assert_int_equal(
                    ns__stack_find_route(env.s, 0, NS_IP4_ANY, row->remote, false, &path), 0);
                assert_int_equal(path.local, row->want);
                ns__path_release(&path);
                /* And the packet carries it. */
                assert_int_equal(send_one(&env, 0, row->remote, 0, 8), 0);
                struct ns_pkt *p = ns_channel_read(env.ch[1]);
                assert_non_null(p);
                assert_int_equal(ns_ipv4_src(ns_pkt_data(p)), row->want);
                ns_pkt_free(p);
                teardown(&env);
        }
}

/* TestExcludeBroadcast/WithoutPrimaryAddress: the broadcast address is never a source. */
static void test_no_primary_address_no_route(void **state)
{
        (void)state;
        struct ns_test_env env;
        ns_test_env_init(&env, mods);
        ns_test_add_nic(&env, 1, 1500, 0, 0);
        struct ns_route_entry r = { .nic_id = 1 };
        assert_int_equal(ns_route_add(env.s, &r), 0);
        struct ns_path path;
        assert_int_equal(
            ns__stack_find_route(env.s, 0, NS_IP4_ANY, NS_IP4(10, 0, 0, 1), false, &path),
            NS_ERR_NO_ROUTE);
        /* WithPrimaryAddress: once one is added, the route resolves from it. */
        struct ns_ip4_prefix a = { NS_IP4(10, 0, 0, 2), 32 };
        assert_int_equal(ns_nic_add_address(env.s, 1, a), 0);
        assert_int_equal(
            ns__stack_find_route(env.s, 0, NS_IP4_ANY, NS_IP4(10, 0, 0, 1), false, &path), 0);
        assert_int_equal(path.local, NS_IP4(10, 0, 0, 2));
        ns__path_release(&path);
        teardown(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_packet_stats),
                cmocka_unit_test(test_write_packets_link_errors),
                cmocka_unit_test(test_postrouting_drop),
                cmocka_unit_test(test_output_dnat_to_self_delivers_locally),
                cmocka_unit_test(test_packet_to_own_address_loops_without_the_link),
                cmocka_unit_test(test_broadcast_is_sent_and_looped),
                cmocka_unit_test(test_ids_per_flow),
                cmocka_unit_test(test_ids_differ_between_seeds),
                cmocka_unit_test(test_network_mtu),
                cmocka_unit_test(test_link_mtu_below_68_refuses_to_send),
                cmocka_unit_test(test_header_too_big_refused),
                cmocka_unit_test(test_source_address_selection),
                cmocka_unit_test(test_no_primary_address_no_route),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
