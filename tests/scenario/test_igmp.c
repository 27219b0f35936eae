/*
 * The IGMP host over the channel link, on the manual clock and seeded RNG:
 * IGMPv2 as gVisor's igmp.go runs it (RFC 2236), IGMPv1 compatibility, the
 * IGMPv3 host with its compatibility modes (RFC 3376 sections 5 and 7),
 * queued reports, disable and re-enable. Every message the stack sends is
 * checked for TTL 1, Router Alert and checksums by igmp_read().
 */
#include "test_igmp_env.h"

/* RFC 2236 section 3: a join reports at once and once more within the
 * Unsolicited Report Interval (10 s); gVisor's two transmissions (#4901). */
static void test_v2_join_reports_twice(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        int64_t waited = wait_for_send(&env, 10 * SEC, 100 * MS);
        assert_true(waited <= 10 * SEC);
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        /* Delaying -> Idle: nothing more (lwIP bug #47731, HOSTILE 70). */
        ns_test_advance(&env, 60 * SEC);
        expect_silence(&env);
        /* A second join of the same group is only counted. */
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        expect_silence(&env);
        struct ns_stats st = stats_now(&env);
        assert_int_equal(st.igmp.sent_v2_membership_report, 2);
        ns_test_env_destroy(&env);
}

/* The unsolicited report count is a setting (gVisor #4901). */
static void test_v2_unsolicited_count_setting(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_UNSOLICITED_REPORT_COUNT, 3), 0);
        assert_int_equal(
            ns_igmp_set_param(env.s, NS_IGMP_PARAM_V2_UNSOLICITED_REPORT_INTERVAL_MS, 2000), 0);
        assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_UNSOLICITED_REPORT_COUNT, 0),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        for (int i = 0; i < 2; i++) {
                assert_true(wait_for_send(&env, 2 * SEC, 50 * MS) <= 2 * SEC);
                expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        }
        ns_test_advance(&env, 30 * SEC);
        expect_silence(&env);
        int64_t v;
        assert_int_equal(ns_igmp_get_param(env.s, NS_IGMP_PARAM_UNSOLICITED_REPORT_COUNT, &v), 0);
        assert_int_equal(v, 3);
        ns_test_env_destroy(&env);
}

/* RFC 2236 section 6: a Leave to 224.0.0.2 only when we were the last to
 * report; join counts need as many leaves. */
static void test_v2_leave_only_when_last_reporter(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G1), 0);
        expect_silence(&env);
        assert_true(ns_ipv4_is_in_group(env.s, 1, G1));
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G1), 0);
        expect_v12(&env, NS_IGMP_LEAVE, G1);
        assert_false(ns_ipv4_is_in_group(env.s, 1, G1));
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G1), NS_ERR_BAD_LOCAL_ADDRESS);

        /* Another host reported after us: it is the last reporter now. */
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G2), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        heard_report(&env, PEER, G2);
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G2), 0);
        expect_silence(&env);
        struct ns_stats st = stats_now(&env);
        assert_int_equal(st.igmp.sent_leave_group, 1);
        ns_test_env_destroy(&env);
}

/* RFC 2236 section 3: general and group-specific queries are answered
 * after a random delay within Max Response Time; all-systems never. */
static void test_v2_queries_answered_within_max_resp(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G2), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        for (int round = 0; round < 5; round++) {
                query_v12(&env, 0, 30); /* 3 s */
                bool seen1 = false, seen2 = false;
                for (int64_t t = 0; t <= 3 * SEC; t += 100 * MS) {
                        struct sent s;
                        while (igmp_read(&env, &s)) {
                                assert_int_equal(s.type, NS_IGMP_V2_REPORT);
                                assert_true(s.group == G1 || s.group == G2);
                                if (s.group == G1) {
                                        assert_false(seen1);
                                        seen1 = true;
                                } else {
                                        assert_false(seen2);
                                        seen2 = true;
                                }
                        }
                        ns_test_advance(&env, 100 * MS);
                }
                struct sent s;
                while (igmp_read(&env, &s))
                        seen1 |= s.group == G1, seen2 |= s.group == G2;
                assert_true(seen1 && seen2);
                ns_test_advance(&env, 10 * SEC);
                expect_silence(&env);
        }
        /* Group-specific: only that group answers. */
        query_v12(&env, G2, 20);
        assert_true(wait_for_send(&env, 2 * SEC, 50 * MS) <= 2 * SEC);
        expect_v12(&env, NS_IGMP_V2_REPORT, G2);
        ns_test_advance(&env, 10 * SEC);
        expect_silence(&env);
        /* A query for a group we are not in: nothing. */
        query_v12(&env, G3, 20);
        ns_test_advance(&env, 10 * SEC);
        expect_silence(&env);
        ns_test_env_destroy(&env);
}

/* RFC 2236 section 3: another host's report cancels our pending one. */
static void test_v2_suppression(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        query_v12(&env, G1, 100); /* 10 s */
        heard_report(&env, PEER, G1);
        ns_test_advance(&env, 20 * SEC);
        expect_silence(&env);
        /* The unsolicited second report is suppressed too. */
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G2), 0);
        expect_v12(&env, NS_IGMP_V2_REPORT, G2);
        heard_report(&env, PEER, G2);
        ns_test_advance(&env, 20 * SEC);
        expect_silence(&env);
        ns_test_env_destroy(&env);
}

/* RFC 2236 section 4: a v1 query (Max Resp 0, meaning 10 s) makes a v2
 * host speak v1 for 400 s: v1 reports, no leaves. */
static void test_v1_router_present_400s(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        query_v12(&env, 0, 0);
        assert_true(wait_for_send(&env, 10 * SEC, 100 * MS) <= 10 * SEC);
        expect_v12(&env, NS_IGMP_V1_REPORT, G1);
        /* No leave while the v1 router is present. */
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G1), 0);
        expect_silence(&env);
        /* Still v1 just before 400 s ... */
        ns_test_advance(&env, 380 * SEC);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G2), 0);
        expect_v12(&env, NS_IGMP_V1_REPORT, G2);
        ns_test_advance(&env, 10 * SEC);
        ns_test_drain_all(&env);
        /* ... v2 again after it (the query came at 20 s + at most 10 s). */
        ns_test_advance(&env, 20 * SEC);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G3), 0);
        expect_v12(&env, NS_IGMP_V2_REPORT, G3);
        struct ns_stats st = stats_now(&env);
        assert_int_equal(st.igmp.sent_v1_membership_report, 3);
        ns_test_env_destroy(&env);
}

/* RFC 3376 5.1: a v3 join sends CHANGE_TO_EXCLUDE {} to 224.0.0.22,
 * Robustness (2) times within the 1 s interval; a leave sends
 * CHANGE_TO_INCLUDE {} as often, even when another host reported. */
static void test_v3_join_and_leave_state_changes(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 3, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_EXCLUDE, G1);
        assert_true(wait_for_send(&env, 1 * SEC, 10 * MS) <= 1 * SEC);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_EXCLUDE, G1);
        ns_test_advance(&env, 10 * SEC);
        expect_silence(&env);
        heard_report(&env, PEER, G1); /* no suppression in v3 */
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G1), 0);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_INCLUDE, G1);
        assert_false(ns_ipv4_is_in_group(env.s, 1, G1));
        assert_true(wait_for_send(&env, 1 * SEC, 10 * MS) <= 1 * SEC);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_INCLUDE, G1);
        ns_test_advance(&env, 10 * SEC);
        expect_silence(&env);
        /* Robustness 3: three transmissions. */
        assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_ROBUSTNESS, 3), 0);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G2), 0);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_EXCLUDE, G2);
        for (int i = 0; i < 2; i++) {
                assert_true(wait_for_send(&env, 1 * SEC, 10 * MS) <= 1 * SEC);
                expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_EXCLUDE, G2);
        }
        ns_test_advance(&env, 10 * SEC);
        expect_silence(&env);
        struct ns_stats st = stats_now(&env);
        assert_int_equal(st.igmp.sent_v3_membership_report, 7);
        ns_test_env_destroy(&env);
}

/* RFC 3376 5.2: a general query gets one current-state report with
 * MODE_IS_EXCLUDE {} for every group but 224.0.0.1, within Max Resp. */
static void test_v3_general_query(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 3, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G2), 0);
        ns_test_advance(&env, 10 * SEC);
        ns_test_drain_all(&env);
        query_v3(&env, 0, 50, NULL, 0); /* 5 s */
        assert_true(wait_for_send(&env, 5 * SEC, 100 * MS) <= 5 * SEC);
        struct sent s;
        assert_true(igmp_read(&env, &s));
        assert_int_equal(s.type, NS_IGMP_V3_REPORT);
        assert_int_equal(s.nrecs, 2);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(s.recs[i].type, NS_IGMPV3_MODE_IS_EXCLUDE);
                assert_int_equal(s.recs[i].nsources, 0);
                assert_true(s.recs[i].group == G1 || s.recs[i].group == G2);
        }
        assert_int_not_equal(s.recs[0].group, s.recs[1].group);
        ns_test_advance(&env, 20 * SEC);
        expect_silence(&env);
        ns_test_env_destroy(&env);
}

/* RFC 3376 5.2: a group-specific query gets MODE_IS_EXCLUDE {} for that
 * group; group-and-source queries get MODE_IS_INCLUDE with the queried
 * sources, a second one while pending adding to the list (rule 5). */
static void test_v3_group_and_source_queries(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 3, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G2), 0);
        ns_test_advance(&env, 10 * SEC);
        ns_test_drain_all(&env);
        query_v3(&env, G1, 20, NULL, 0);
        assert_true(wait_for_send(&env, 2 * SEC, 10 * MS) <= 2 * SEC);
        expect_v3_one(&env, NS_IGMPV3_MODE_IS_EXCLUDE, G1);
        ns_test_advance(&env, 10 * SEC);
        expect_silence(&env);

        const ns_ip4 s1[] = { NS_IP4(198, 51, 100, 1), NS_IP4(198, 51, 100, 2) };
        const ns_ip4 s2[] = { NS_IP4(198, 51, 100, 2), NS_IP4(198, 51, 100, 3) };
        query_v3(&env, G2, 100, s1, 2);
        query_v3(&env, G2, 100, s2, 2);
        assert_true(wait_for_send(&env, 10 * SEC, 100 * MS) <= 10 * SEC);
        struct sent s;
        assert_true(igmp_read(&env, &s));
        assert_int_equal(s.nrecs, 1);
        assert_int_equal(s.recs[0].type, NS_IGMPV3_MODE_IS_INCLUDE);
        assert_int_equal(s.recs[0].group, G2);
        assert_int_equal(s.recs[0].nsources, 3);
        assert_int_equal(s.recs[0].sources[0], s1[0]);
        assert_int_equal(s.recs[0].sources[1], s1[1]);
        assert_int_equal(s.recs[0].sources[2], s2[1]);
        ns_test_advance(&env, 20 * SEC);
        expect_silence(&env);

        /* Rule 4: a group query while sources are pending answers for all. */
        query_v3(&env, G2, 100, s1, 2);
        query_v3(&env, G2, 100, NULL, 0);
        assert_true(wait_for_send(&env, 10 * SEC, 100 * MS) <= 10 * SEC);
        expect_v3_one(&env, NS_IGMPV3_MODE_IS_EXCLUDE, G2);
        ns_test_env_destroy(&env);
}

/* RFC 3376 4.1.1: Max Resp Code 0 means respond now; never a divisor
 * (CVE-2012-0207, HOSTILE 66). */
static void test_v3_max_resp_code_zero(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 3, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 10 * SEC);
        ns_test_drain_all(&env);
        query_v3(&env, 0, 0, NULL, 0);
        ns_test_advance(&env, 0);
        expect_v3_one(&env, NS_IGMPV3_MODE_IS_EXCLUDE, G1);
        query_v3(&env, G1, 0, NULL, 0);
        ns_test_advance(&env, 0);
        expect_v3_one(&env, NS_IGMPV3_MODE_IS_EXCLUDE, G1);
        /* The exponent form (code >= 128) is decoded, not taken as is. */
        query_v3(&env, G1, 0x80, NULL, 0); /* (0 | 0x10) << 3 = 128 -> 12.8 s */
        int64_t w = wait_for_send(&env, 13 * SEC, 100 * MS);
        assert_true(w <= 13 * SEC);
        expect_v3_one(&env, NS_IGMPV3_MODE_IS_EXCLUDE, G1);
        ns_test_env_destroy(&env);
}

/*
 * RFC 3376 7.2.1: a v2 query drops a v3 host to v2, a v1 query to v1; each
 * Older Version Querier Present timer (Robustness x Query Interval + Max
 * Resp: 2 x 125 s + Max Resp) running out brings the next version back.
 */
static void test_v3_v2_v1_fallback_and_back(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 3, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 10 * SEC);
        ns_test_drain_all(&env);
        /* t=0: v2 query (10 s): v2 present until 260 s. */
        query_v12(&env, 0, 100);
        assert_true(wait_for_send(&env, 10 * SEC, 100 * MS) <= 10 * SEC);
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        ns_test_advance(&env, 20 * SEC); /* t ~ 30 s */
        expect_silence(&env);
        /* v2 mode: a join sends v2 reports, a leave a v2 Leave. */
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G2), 0);
        expect_v12(&env, NS_IGMP_V2_REPORT, G2);
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G2), 0);
        expect_v12(&env, NS_IGMP_LEAVE, G2);
        /* v1 query at ~30 s: v1 present until ~290 s. */
        query_v12(&env, 0, 0);
        assert_true(wait_for_send(&env, 10 * SEC, 100 * MS) <= 10 * SEC);
        expect_v12(&env, NS_IGMP_V1_REPORT, G1);
        ns_test_advance(&env, 200 * SEC); /* t ~ 240 s */
        /* Refresh v2 presence; v1 still wins. */
        query_v12(&env, 0, 100);
        assert_true(wait_for_send(&env, 10 * SEC, 100 * MS) <= 10 * SEC);
        expect_v12(&env, NS_IGMP_V1_REPORT, G1);
        /* t ~ 300 s: v1 gone, v2 (until ~500 s) remains. */
        ns_test_advance(&env, 50 * SEC);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G3), 0);
        expect_v12(&env, NS_IGMP_V2_REPORT, G3);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        /* t ~ 520 s: back to v3. */
        ns_test_advance(&env, 200 * SEC);
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G3), 0);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_INCLUDE, G3);
        ns_test_env_destroy(&env);
}

/* The seed's sendQueuedReports: with no address a join reports nothing;
 * the address's arrival sends the report. */
static void test_reports_queued_until_address(void **state)
{
        (void)state;
        for (int v = 2; v <= 3; v++) {
                struct ns_test_env env;
                igmp_env_up(&env, v, 0);
                assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
                ns_test_advance(&env, 30 * SEC);
                expect_silence(&env);
                struct ns_ip4_prefix a = { .addr = LOCAL, .prefix_len = 24 };
                assert_int_equal(ns_nic_add_address(env.s, 1, a), 0);
                if (v == 2)
                        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
                else
                        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_EXCLUDE, G1);
                assert_true(wait_for_send(&env, 10 * SEC, 10 * MS) <= 10 * SEC);
                ns_test_drain_all(&env);
                ns_test_advance(&env, 30 * SEC);
                expect_silence(&env);
                ns_test_env_destroy(&env);
        }
}

/* The seed's Disable (softLeaveAll, resetV1Present) and Enable
 * (initializeAll): groups stay joined locally throughout. */
static void test_disable_and_reenable(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        query_v12(&env, 0, 0); /* v1 present */
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        assert_int_equal(ns_nic_disable(env.s, 1), 0);
        expect_silence(&env); /* v1: no leave */
        assert_true(ns_ipv4_is_in_group(env.s, 1, G1));
        assert_int_equal(ns_nic_enable(env.s, 1), 0);
        /* v1 presence was forgotten: v2 reports again. */
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        assert_int_equal(ns_nic_disable(env.s, 1), 0);
        expect_v12(&env, NS_IGMP_LEAVE, G1);
        /* Joined while down: reported on enable; nothing sent meanwhile. */
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G2), 0);
        ns_test_advance(&env, 20 * SEC);
        expect_silence(&env);
        assert_int_equal(ns_nic_enable(env.s, 1), 0);
        struct sent a, b;
        assert_true(igmp_read(&env, &a) && igmp_read(&env, &b));
        assert_true((a.group == G1 && b.group == G2) || (a.group == G2 && b.group == G1));
        expect_silence(&env);

        /* v3: down sends CHANGE_TO_INCLUDE once, up CHANGE_TO_EXCLUDE. */
        assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_VERSION, 3), 0);
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G2), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        assert_int_equal(ns_nic_disable(env.s, 1), 0);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_INCLUDE, G1);
        ns_test_advance(&env, 20 * SEC);
        expect_silence(&env);
        assert_int_equal(ns_nic_enable(env.s, 1), 0);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_EXCLUDE, G1);
        ns_test_env_destroy(&env);
}

/* IGMP switched off: groups still work locally, nothing is sent; switched
 * on, joined groups are reported. Loopback NICs never speak IGMP. */
static void test_igmp_off_and_loopback(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 3, LOCAL);
        assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_ENABLED, 0), 0);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        assert_true(ns_ipv4_is_in_group(env.s, 1, G1));
        query_v3(&env, 0, 10, NULL, 0);
        ns_test_advance(&env, 10 * SEC);
        expect_silence(&env);
        assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_ENABLED, 1), 0);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_EXCLUDE, G1);
        ns_test_advance(&env, 10 * SEC);
        ns_test_drain_all(&env);
        assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_ENABLED, 0), 0);
        expect_v3_one(&env, NS_IGMPV3_CHANGE_TO_INCLUDE, G1);
        assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_VERSION, 4),
                         NS_ERR_INVALID_ARGUMENT);
        assert_int_equal(ns_igmp_set_param(env.s, (enum ns_igmp_param)99, 1),
                         NS_ERR_UNKNOWN_PROTOCOL_OPTION);

        struct ns_link *lo = ns_loopback_create(NULL, 65536);
        assert_non_null(lo);
        assert_int_equal(ns_igmp_set_param(env.s, NS_IGMP_PARAM_ENABLED, 1), 0);
        ns_test_advance(&env, 10 * SEC); /* NIC 1's reports of G1 */
        ns_test_drain_all(&env);
        assert_int_equal(ns_nic_create(env.s, 2, lo, NULL), 0);
        struct ns_ip4_prefix a = { .addr = NS_IP4(127, 0, 0, 1), .prefix_len = 8 };
        assert_int_equal(ns_nic_add_address(env.s, 2, a), 0);
        uint64_t before = stats_now(&env).igmp.sent_v3_membership_report;
        assert_int_equal(ns_ipv4_join_group(env.s, 2, G1), 0);
        ns_test_advance(&env, 10 * SEC);
        assert_int_equal(stats_now(&env).igmp.sent_v3_membership_report, before);
        assert_int_equal(ns_nic_remove(env.s, 2), 0);
        ns_loopback_destroy(lo);
        ns_test_env_destroy(&env);
}

/* A version-2 host takes v3 queries as v2 ones (RFC 3376 7.2.1); a
 * version-1 host answers any query with a v1 report within 10 s. */
static void test_configured_older_versions(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 2, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        const ns_ip4 src[] = { NS_IP4(198, 51, 100, 1) };
        query_v3(&env, G1, 10, src, 1);
        assert_true(wait_for_send(&env, 1 * SEC, 10 * MS) <= 1 * SEC);
        expect_v12(&env, NS_IGMP_V2_REPORT, G1);
        ns_test_env_destroy(&env);

        igmp_env_up(&env, 1, LOCAL);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        expect_v12(&env, NS_IGMP_V1_REPORT, G1);
        ns_test_advance(&env, 20 * SEC);
        ns_test_drain_all(&env);
        query_v12(&env, 0, 5);
        assert_true(wait_for_send(&env, 10 * SEC, 100 * MS) <= 10 * SEC);
        expect_v12(&env, NS_IGMP_V1_REPORT, G1);
        assert_int_equal(ns_ipv4_leave_group(env.s, 1, G1), 0);
        expect_silence(&env);
        ns_test_env_destroy(&env);
}

/* Item 6 of the issue: multicast to a group we did not join is dropped and
 * counted; joined, it is delivered (UDP's own suite covers sockets). */
static void test_multicast_receive_needs_join(void **state)
{
        (void)state;
        struct ns_test_env env;
        igmp_env_up(&env, 3, LOCAL);
        uint8_t m[8];
        assert_int_equal(ns_igmp_emit(m, sizeof(m), NS_IGMP_V2_REPORT, 0, G1), 8);
        struct ns_stats before = stats_now(&env);
        heard_report(&env, PEER, G1);
        struct ns_stats after = stats_now(&env);
        assert_int_equal(after.ip.invalid_destination_addresses_received -
                             before.ip.invalid_destination_addresses_received,
                         1);
        assert_int_equal(after.igmp.received_v2_membership_report, 0);
        assert_int_equal(ns_ipv4_join_group(env.s, 1, G1), 0);
        heard_report(&env, PEER, G1);
        after = stats_now(&env);
        assert_int_equal(after.ip.multicast_packets_received - before.ip.multicast_packets_received,
                         1);
        assert_int_equal(after.igmp.received_v2_membership_report, 1);
        ns_test_env_destroy(&env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_v2_join_reports_twice),
                cmocka_unit_test(test_v2_unsolicited_count_setting),
                cmocka_unit_test(test_v2_leave_only_when_last_reporter),
                cmocka_unit_test(test_v2_queries_answered_within_max_resp),
                cmocka_unit_test(test_v2_suppression),
                cmocka_unit_test(test_v1_router_present_400s),
                cmocka_unit_test(test_v3_join_and_leave_state_changes),
                cmocka_unit_test(test_v3_general_query),
                cmocka_unit_test(test_v3_group_and_source_queries),
                cmocka_unit_test(test_v3_max_resp_code_zero),
                cmocka_unit_test(test_v3_v2_v1_fallback_and_back),
                cmocka_unit_test(test_reports_queued_until_address),
                cmocka_unit_test(test_disable_and_reenable),
                cmocka_unit_test(test_igmp_off_and_loopback),
                cmocka_unit_test(test_configured_older_versions),
                cmocka_unit_test(test_multicast_receive_needs_join),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
