/*
 * HOSTILE-INPUTS 66-70 against the IGMP host: Max Resp Code 0, messages
 * without TTL 1 or from off-subnet sources, read-only checksum checks,
 * crafted IGMPv3 messages and state growth, and the state-machine slips
 * lwIP had. Every malformed message is counted and changes nothing.
 */
#include "../scenario/test_igmp_env.h"

/* 66: Max Resp Code 0 in v3 queries of every kind is "respond now". */
static void test_66_max_resp_code_zero(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 3, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 10 * SEC);
        ns_test_drain_all(&env);
        const ns_ip4 src[] = { NS_IP4(198, 51, 100, 7) };
        query_v3(&env, G1, 0, src, 1);
        ns_test_advance(&env, 0);
        struct sent s;
        assert_true(igmp_read(&env, &s));
        assert_int_equal(s.recs[0].type, NS_IGMPV3_MODE_IS_INCLUDE);
        assert_int_equal(s.recs[0].sources[0], src[0]);
        /* An 8-byte query with Max Resp 0 is v1 (10 s), not "now". */
        query_v12(&env, 0, 0);
        ns_test_advance(&env, 0);
        assert_true(wait_for_send(&env, 10 * SEC, 100 * MS) <= 10 * SEC);
        expect_v12(&env, NS_IGMP_V1_REPORT, G1);
        ns_test_env_destroy(&env);
}

/* 67: queries with TTL != 1 and reports from off-subnet sources are
 * counted invalid and ignored; a missing Router Alert is accepted, as
 * Linux does. */
static void test_67_ttl_router_alert_and_sources(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        uint8_t q[8];
        assert_int_equal(ns_igmp_emit(q, sizeof(q), NS_IGMP_QUERY, 10, 0), 8);
        struct ns_stats before = stats_now(&env);
        igmp_inject(&env,
                    &(struct igmp_in){ .dst = NS_IP4_ALL_SYSTEMS, .ttl = 2, .m = q, .len = 8 });
        ns_test_advance(&env, 5 * SEC);
        expect_silence(&env);
        struct ns_stats after = stats_now(&env);
        assert_int_equal(
            after.igmp.received_membership_query - before.igmp.received_membership_query, 1);
        assert_int_equal(after.igmp.received_invalid - before.igmp.received_invalid, 1);
        assert_int_equal(
            after.ip.option_router_alert_received - before.ip.option_router_alert_received, 1);

        /* No Router Alert: still answered. */
        igmp_inject(
            &env, &(struct igmp_in){ .dst = NS_IP4_ALL_SYSTEMS, .no_ra = true, .m = q, .len = 8 });
        assert_true(wait_for_send(&env, 1 * SEC, 10 * MS) <= 1 * SEC);
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);

        /* An off-subnet report does not suppress ours. */
        query_v12(&env, G1, 100);
        before = stats_now(&env);
        heard_report(&env, FARAWAY, G1);
        after = stats_now(&env);
        assert_int_equal(after.igmp.received_invalid - before.igmp.received_invalid, 1);
        assert_true(wait_for_send(&env, 10 * SEC, 100 * MS) <= 10 * SEC);
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        ns_test_env_destroy(&env);
}

/* 68: the checksum is verified without writing to the packet; bad ones
 * are counted and ignored. */
static void test_68_checksum_read_only(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        uint8_t q[8];
        assert_int_equal(ns_igmp_emit(q, sizeof(q), NS_IGMP_QUERY, 10, 0), 8);
        igmp_inject(&env, &(struct igmp_in){
                              .dst = NS_IP4_ALL_SYSTEMS, .bad_csum = true, .m = q, .len = 8 });
        ns_test_advance(&env, 5 * SEC);
        expect_silence(&env);
        assert_int_equal(stats_now(&env).igmp.received_checksum_errors, 1);

        /* A query we keep a reference to comes out of the stack unchanged. */
        static const uint8_t ra[4] = { 148, 4, 0, 0 };
        uint8_t bytes[32];
        struct ns_ipv4_fields f = { .total_len = 32,
                                    .ttl = 1,
                                    .proto = NS_IPV4_PROTO_IGMP,
                                    .src = QUERIER,
                                    .dst = NS_IP4_ALL_SYSTEMS,
                                    .options = ra,
                                    .options_len = 4 };
        assert_int_equal(ns_ipv4_emit(bytes, 24, &f), 24);
        memcpy(bytes + 24, q, 8);
        struct ns_pkt *pkt = ns_pkt_alloc(ns_stack_pool(env.s), 64, sizeof(bytes));
        assert_non_null(pkt);
        memcpy(ns_pkt_put(pkt, sizeof(bytes)), bytes, sizeof(bytes));
        struct ns_pkt *keep = ns_pkt_clone(pkt);
        assert_non_null(keep);
        ns_channel_inject(env.ch[1], 0x0800, pkt);
        assert_memory_equal(ns_pkt_data(keep), bytes, sizeof(bytes));
        ns_pkt_free(keep);
        assert_true(wait_for_send(&env, 1 * SEC, 10 * MS) <= 1 * SEC);
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        ns_test_env_destroy(&env);
}

/* 69: crafted and truncated v3 messages are counted, never read past;
 * group state is capped; huge source lists are bounded. */
static void test_69_crafted_v3_and_growth(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 3, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 10 * SEC);
        ns_test_drain_all(&env);
        uint8_t m[12 + 4 * 300];
        /* Every length 0..40 of a v3 query that claims 8 sources. */
        const ns_ip4 src8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        size_t full = ns_igmpv3_emit_query(m, sizeof(m), 10, G1, false, 2, 125, src8, 8);
        assert_int_equal(full, 44);
        struct ns_stats before = stats_now(&env);
        for (size_t len = 0; len < full; len++) {
                uint8_t c[64];
                memcpy(c, m, len);
                /* Fix the checksum for the truncated length when there is room. */
                if (len >= 4) {
                        c[2] = c[3] = 0;
                        uint16_t ck = ns_igmp_compute_checksum(c, len);
                        c[2] = (uint8_t)(ck >> 8);
                        c[3] = (uint8_t)ck;
                }
                igmp_inject(&env, &(struct igmp_in){ .dst = G1, .m = c, .len = len });
        }
        struct ns_stats after = stats_now(&env);
        /* 0..7: too short; 8: a v2 query (valid); 9..11: bad length;
         * 12..43: sources truncated. */
        assert_int_equal(after.igmp.received_invalid - before.igmp.received_invalid, 43);
        assert_int_equal(
            after.igmp.received_membership_query - before.igmp.received_membership_query, 1);
        ns_test_advance(&env, 300 * SEC);
        ns_test_drain_all(&env);

        /* 300 sources: one bounded response, whole-group. */
        ns_ip4 many[300];
        for (unsigned i = 0; i < 300; i++)
                many[i] = NS_IP4(198, 51, 100, 0) + i;
        size_t n = ns_igmpv3_emit_query(m, sizeof(m), 10, G1, false, 2, 125, many, 300);
        igmp_inject(&env, &(struct igmp_in){ .dst = G1, .m = m, .len = n });
        assert_true(wait_for_send(&env, 1 * SEC, 10 * MS) <= 1 * SEC);
        expect_v3_one(&env, NS_IGMPV3_MODE_IS_EXCLUDE, G1);

        /* A v3 report with a record running past the end. */
        uint8_t r[16] = { NS_IGMP_V3_REPORT, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 9, 239, 1, 2, 3 };
        uint16_t ck = ns_igmp_compute_checksum(r, sizeof(r));
        r[2] = (uint8_t)(ck >> 8);
        r[3] = (uint8_t)ck;
        before = stats_now(&env);
        igmp_inject(&env, &(struct igmp_in){ .src = PEER, .dst = G1, .m = r, .len = sizeof(r) });
        after = stats_now(&env);
        assert_int_equal(after.igmp.received_invalid - before.igmp.received_invalid, 1);

        /* At most 64 groups per NIC (224.0.0.1 and G1 hold two). */
        int joined = 0;
        for (unsigned i = 0; i < 100; i++)
                if (ns_ipv4_join_group(env.s, 1, NS_IP4(239, 9, 0, 0) + i) == 0)
                        joined++;
        assert_int_equal(joined, 62);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, NS_IP4(239, 9, 9, 9)),
                         NS_ERR_NO_BUFFER_SPACE);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, NS_IP4(10, 0, 0, 1)), NS_ERR_BAD_ADDRESS);
        /* The general response fits the MTU: one report, 63 records. */
        ns_test_advance(&env, 10 * SEC);
        ns_test_drain_all(&env);
        query_v3(&env, 0, 10, NULL, 0);
        assert_true(wait_for_send(&env, 1 * SEC, 10 * MS) <= 1 * SEC);
        struct sent s;
        assert_true(igmp_read(&env, &s));
        assert_int_equal(s.nrecs, 63);
        expect_silence(&env);
        /* A group leaving (still retransmitting) gives its slot to a join. */
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G1), 0);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, NS_IP4(239, 9, 9, 9)), 0);
        ns_test_env_destroy(&env);
}

/* 70: all-systems is never reported, not on enable, join or query; a
 * delayed report goes once (Delaying -> Idle). */
static void test_70_state_machine_slips(void **state)
{
        (void)state;
        for (int v = 1; v <= 3; v++) {
                struct ns_test_env env;
                ns_test_env_init(&env, igmp_mods);
                assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_VERSION, v), 0);
                ns_test_add_nic(&env, 1, 1500, LOCAL, 24);
                expect_silence(&env);
                assert_int_equal(ns_ipv4_join_group(env.s, 1, NS_IP4_ALL_SYSTEMS), 0);
                expect_silence(&env);
                if (v == 3)
                        query_v3(&env, 0, 10, NULL, 0);
                else
                        query_v12(&env, 0, 10);
                query_v12(&env, NS_IP4_ALL_SYSTEMS, 10);
                ns_test_advance(&env, 30 * SEC);
                expect_silence(&env);
                assert_int_equal(ns_ipv4_leave_group(env.s, 1, NS_IP4_ALL_SYSTEMS), 0);
                assert_true(ns_ipv4_is_in_group(env.s, 1, NS_IP4_ALL_SYSTEMS));
                expect_silence(&env);
                ns_test_env_destroy(&env);
        }
        /* Delaying -> Idle: one response per query, then nothing. */
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        query_v12(&env, 0, 10);
        query_v12(&env, G1, 100); /* a longer Max Resp keeps the running timer */
        assert_true(wait_for_send(&env, 1 * SEC, 10 * MS) <= 1 * SEC);
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        ns_test_advance(&env, 60 * SEC);
        expect_silence(&env);
        ns_test_env_destroy(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_66_max_resp_code_zero),
                cmocka_unit_test(test_67_ttl_router_alert_and_sources),
                cmocka_unit_test(test_68_checksum_read_only),
                cmocka_unit_test(test_69_crafted_v3_and_growth),
                cmocka_unit_test(test_70_state_machine_slips),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
