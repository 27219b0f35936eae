/* struct ns_stats: names, JSON, walking, lookup, summing and the bump macros. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/stats.h>

#include "core/stats.h"

#define MAX_COUNTERS 512

struct visit {
        char names[MAX_COUNTERS][96];
        uint64_t values[MAX_COUNTERS];
        size_t n;
};

static void collect(const char *group, const char *name, const char *mib, uint64_t value, void *ctx)
{
        struct visit *v = ctx;

        assert_non_null(mib);
        assert_true(v->n < MAX_COUNTERS);
        snprintf(v->names[v->n], sizeof(v->names[0]), "%s.%s", group, name);
        v->values[v->n] = value;
        v->n++;
}

/* Gives every counter a distinct value: its position in walk order, plus 1000. */
static void populate(struct ns_stats *s, struct visit *v)
{
        memset(s, 0, sizeof(*s));
        memset(v, 0, sizeof(*v));
        ns_stats_foreach(s, collect, v);
        for (size_t i = 0; i < v->n; i++) {
                uint64_t *p = (uint64_t *)ns_stats_find(s, v->names[i]);

                assert_non_null(p);
                *p = 1000 + i;
        }
}

static void test_names_unique_and_complete(void **state)
{
        (void)state;
        struct ns_stats s;
        struct visit *v = calloc(1, sizeof(*v));

        assert_non_null(v);
        memset(&s, 0, sizeof(s));
        ns_stats_foreach(&s, collect, v);
        /* Every field of the struct is a counter, and each is visited once. */
        assert_int_equal(v->n, sizeof(struct ns_stats) / sizeof(uint64_t));
        assert_int_equal(v->n, ns_stats_count());
        for (size_t i = 0; i < v->n; i++) {
                for (size_t j = i + 1; j < v->n; j++)
                        assert_string_not_equal(v->names[i], v->names[j]);
        }
        free(v);
}

static void test_foreach_visits_each_once(void **state)
{
        (void)state;
        struct ns_stats s;
        struct visit *v = calloc(1, sizeof(*v));
        struct visit *w = calloc(1, sizeof(*w));

        assert_non_null(v);
        assert_non_null(w);
        populate(&s, v);
        ns_stats_foreach(&s, collect, w);
        assert_int_equal(w->n, v->n);
        /* Distinct values seen in order prove no counter was visited twice or skipped. */
        for (size_t i = 0; i < w->n; i++)
                assert_int_equal(w->values[i], 1000 + i);
        /* The values landed in the named fields. */
        assert_int_equal(s.ip.packets_received, 1000);
        assert_true(s.nic.tx_errors >= 1000);
        free(v);
        free(w);
}

static void test_find(void **state)
{
        (void)state;
        struct ns_stats s;

        memset(&s, 0, sizeof(s));
        s.ip.packets_received = 7;
        s.icmp.sent_rate_limited = 9;
        s.udp.checksum_errors = 11;
        assert_ptr_equal(ns_stats_find(&s, "ip.packets_received"), &s.ip.packets_received);
        assert_int_equal(*ns_stats_find(&s, "icmp.sent_rate_limited"), 9);
        assert_int_equal(*ns_stats_find(&s, "udp.checksum_errors"), 11);
        assert_ptr_equal(ns_stats_find(&s, "nic.tx_errors"), &s.nic.tx_errors);
        assert_ptr_equal(ns_stats_find(&s, "igmp.received_checksum_errors"),
                         &s.igmp.received_checksum_errors);
        /* Same name in another group resolves to that group. */
        assert_ptr_equal(ns_stats_find(&s, "arp.packets_received"), &s.arp.packets_received);

        static const char *const bad[] = {
                "",
                "ip",
                "ip.",
                ".packets_received",
                "packets_received",
                "ip.packets_receive",
                "ip.packets_received.x",
                "ip.packets_receivedx",
                "IP.packets_received",
                "ipx.packets_received",
                "i.packets_received",
                "nope.packets_received",
                "ip..packets_received",
                "icmp.packets_received",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (ns_stats_find(&s, bad[i]) != NULL)
                        fail_msg("ns_stats_find accepted \"%s\"", bad[i]);
        }
}

/*
 * A minimal parser for exactly the JSON shape we emit: an object of
 * objects of unsigned integers. It checks the syntax and hands back each
 * (group, name, value).
 */
struct jp {
        const char *p;
};

static bool jp_string(struct jp *j, char *out, size_t cap)
{
        size_t n = 0;

        if (*j->p != '"')
                return false;
        j->p++;
        while (*j->p && *j->p != '"') {
                char c = *j->p++;

                if (c == '\\' || (unsigned char)c < 0x20 || n + 1 >= cap)
                        return false;
                out[n++] = c;
        }
        if (*j->p != '"')
                return false;
        j->p++;
        out[n] = '\0';
        return n > 0;
}

static bool jp_uint(struct jp *j, uint64_t *out)
{
        uint64_t v = 0;
        const char *start = j->p;

        while (*j->p >= '0' && *j->p <= '9') {
                v = v * 10 + (uint64_t)(*j->p - '0');
                j->p++;
        }
        if (j->p == start || (j->p - start > 1 && *start == '0'))
                return false;
        *out = v;
        return true;
}

/* Parses text and checks every (group.name, value) against s; returns the pair count. */
static size_t check_json(const char *text, const struct ns_stats *s)
{
        struct jp j = { text };
        char group[64], name[96], dotted[200];
        size_t pairs = 0;

        assert_true(*j.p == '{');
        j.p++;
        for (;;) {
                assert_true(jp_string(&j, group, sizeof(group)));
                assert_true(*j.p == ':');
                j.p++;
                assert_true(*j.p == '{');
                j.p++;
                for (;;) {
                        uint64_t v;

                        assert_true(jp_string(&j, name, sizeof(name)));
                        assert_true(*j.p == ':');
                        j.p++;
                        assert_true(jp_uint(&j, &v));
                        snprintf(dotted, sizeof(dotted), "%s.%s", group, name);
                        const uint64_t *c = ns_stats_find(s, dotted);
                        if (!c)
                                fail_msg("JSON names unknown counter %s", dotted);
                        assert_int_equal(*c, v);
                        pairs++;
                        if (*j.p == ',') {
                                j.p++;
                                continue;
                        }
                        assert_true(*j.p == '}');
                        j.p++;
                        break;
                }
                if (*j.p == ',') {
                        j.p++;
                        continue;
                }
                assert_true(*j.p == '}');
                j.p++;
                break;
        }
        assert_true(*j.p == '\0');
        return pairs;
}

static void test_json_round_trip(void **state)
{
        (void)state;
        struct ns_stats s;
        struct visit *v = calloc(1, sizeof(*v));
        size_t need, got;
        char *buf;

        assert_non_null(v);
        populate(&s, v);
        s.ip.forwarded = UINT64_MAX; /* the widest number must fit */
        need = ns_stats_to_json(&s, NULL, 0);
        assert_true(need > 0);
        buf = malloc(need + 1);
        assert_non_null(buf);
        got = ns_stats_to_json(&s, buf, need + 1);
        assert_int_equal(got, need);
        assert_int_equal(strlen(buf), need);
        assert_int_equal(check_json(buf, &s), v->n);
        assert_non_null(strstr(buf, "\"forwarded\":18446744073709551615"));
        assert_memory_equal(buf, "{\"ip\":{\"packets_received\":1000,", 31);

        /* Every counter name appears as a key. */
        for (size_t i = 0; i < v->n; i++) {
                char key[128];

                snprintf(key, sizeof(key), "\"%s\":", strchr(v->names[i], '.') + 1);
                assert_non_null(strstr(buf, key));
        }
        free(buf);
        free(v);
}

static void test_json_zero_and_truncation(void **state)
{
        (void)state;
        struct ns_stats s;
        char full[16384], small[40];
        size_t need;

        memset(&s, 0, sizeof(s));
        need = ns_stats_to_json(&s, full, sizeof(full));
        assert_true(need < sizeof(full));
        assert_int_equal(check_json(full, &s), ns_stats_count());

        /* Truncated like snprintf: same return, NUL-terminated prefix. */
        memset(small, 'x', sizeof(small));
        assert_int_equal(ns_stats_to_json(&s, small, sizeof(small)), need);
        assert_int_equal(strlen(small), sizeof(small) - 1);
        assert_memory_equal(small, full, sizeof(small) - 1);

        small[0] = 'x';
        assert_int_equal(ns_stats_to_json(&s, small, 1), need);
        assert_int_equal(small[0], '\0');
}

static void test_add(void **state)
{
        (void)state;
        struct ns_stats a, b;
        struct visit *v = calloc(1, sizeof(*v));
        struct visit *w = calloc(1, sizeof(*w));

        assert_non_null(v);
        assert_non_null(w);
        populate(&b, v);
        memset(&a, 0, sizeof(a));
        a.ip.packets_received = 5;
        ns_stats_add(&a, &b);
        ns_stats_add(&a, &b);
        ns_stats_foreach(&a, collect, w);
        assert_int_equal(w->n, v->n);
        assert_int_equal(w->values[0], 5 + 2 * 1000);
        for (size_t i = 1; i < w->n; i++)
                assert_int_equal(w->values[i], 2 * (1000 + i));
        free(v);
        free(w);
}

static void test_bump_macros(void **state)
{
        (void)state;
        struct ns_stats ep, stack;

        memset(&ep, 0, sizeof(ep));
        memset(&stack, 0, sizeof(stack));
        NS_STAT_INC(&ep, &stack, ip, malformed_packets_received);
        NS_STAT_INC(&ep, &stack, ip, malformed_packets_received);
        NS_STAT_INC(NULL, &stack, nic, rx_packets);
        NS_STAT_ADD(NULL, &stack, nic, rx_bytes, 1500);
        NS_STAT_ADD(&ep, NULL, icmp, sent_total, 3);
        /* With an endpoint only its counters move: the stack's totals add
         * the NICs' when read (ns_stack_get_stats). */
        assert_int_equal(ep.ip.malformed_packets_received, 2);
        assert_int_equal(stack.ip.malformed_packets_received, 0);
        assert_int_equal(stack.nic.rx_packets, 1);
        assert_int_equal(stack.nic.rx_bytes, 1500);
        assert_int_equal(ep.nic.rx_bytes, 0);
        assert_int_equal(ep.icmp.sent_total, 3);
        assert_int_equal(stack.icmp.sent_total, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_unique_and_complete),
                cmocka_unit_test(test_foreach_visits_each_once),
                cmocka_unit_test(test_find),
                cmocka_unit_test(test_json_round_trip),
                cmocka_unit_test(test_json_zero_and_truncation),
                cmocka_unit_test(test_add),
                cmocka_unit_test(test_bump_macros),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
