/*
 * Shared by the IGMP suites (scenario and hostile): a stack with one
 * channel NIC on the manual clock and seeded RNG, builders for queries and
 * reports from a querier on the link, and a reader that checks every
 * message the stack sends (TTL 1, Router Alert, checksums) and decodes it.
 * Included by test_igmp*.c only (static helpers).
 */
#ifndef NS_TEST_IGMP_ENV_H
#define NS_TEST_IGMP_ENV_H

#include <string.h>

#include "ns_test.h"
#include <netstack/igmp.h>
#include <netstack/ipv4.h>
#include "wire/igmp.h"
#include "wire/ipv4.h"

#define LOCAL   NS_IP4(192, 0, 2, 10)
#define QUERIER NS_IP4(192, 0, 2, 1)
#define PEER    NS_IP4(192, 0, 2, 2)
#define FARAWAY NS_IP4(203, 0, 113, 9)
#define G1      NS_IP4(239, 1, 2, 3)
#define G2      NS_IP4(239, 1, 2, 4)
#define G3      NS_IP4(239, 1, 2, 5)
#define SEC     1000000000LL
#define MS      1000000LL

static const struct ns_module *const igmp_mods[] = { &ns_module_ipv4, NULL };

/** A stack with NIC 1 (LOCAL/24 unless addr is 0) speaking IGMP version v. */
static void igmp_env_up(struct ns_test_env *env, int version, ns_ip4 addr)
{
        ns_test_env_init(env, igmp_mods);
        ns_test_add_nic(env, 1, 1500, addr, 24);
        assert_int_equal(ns_igmp_set_param(env->s, NS_IGMP_PARAM_VERSION, version), 0);
        ns_test_drain_all(env);
}

/** One IGMP message the stack sent, decoded. */
struct sent {
        ns_ip4 src, dst;
        uint8_t type;
        uint8_t max_resp;
        ns_ip4 group; /* v1/v2/leave */
        /* v3 reports */
        uint16_t nrecs;
        struct {
                uint8_t type;
                ns_ip4 group;
                uint16_t nsources;
                ns_ip4 sources[16];
        } recs[64];
};

/**
 * Takes the next packet NIC 1 sent, fails unless it is IGMP as RFC 2236
 * section 2 / RFC 3376 section 4 want it sent (TTL 1, Router Alert, valid
 * IP and IGMP checksums, destination by type), and decodes it. False when
 * nothing was sent.
 */
static bool igmp_read(struct ns_test_env *env, struct sent *out)
{
        struct ns_pkt *pkt = ns_channel_read(env->ch[1]);
        if (!pkt)
                return false;
        memset(out, 0, sizeof(*out));
        const uint8_t *h = ns_pkt_data(pkt);
        size_t len = ns_pkt_len(pkt);
        assert_int_equal(ns_ipv4_validate(h, len), NS_IPV4_VALID);
        size_t hlen = ns_ipv4_hdr_len(h);
        assert_true(ns_ipv4_checksum_ok(h, hlen));
        assert_int_equal(ns_ipv4_proto(h), NS_IPV4_PROTO_IGMP);
        assert_int_equal(ns_ipv4_ttl(h), 1);
        assert_int_equal(hlen, 24);
        static const uint8_t ra[4] = { 148, 4, 0, 0 };
        assert_memory_equal(ns_ipv4_options(h), ra, 4);
        out->src = ns_ipv4_src(h);
        out->dst = ns_ipv4_dst(h);
        const uint8_t *m = h + hlen;
        size_t mlen = len - hlen;
        assert_true(ns_igmp_checksum_ok(m, mlen));
        assert_int_equal(ns_igmp_validate(m, mlen), NS_IGMP_VALID);
        out->type = ns_igmp_type(m);
        out->max_resp = ns_igmp_max_resp(m);
        switch (out->type) {
        case NS_IGMP_V1_REPORT:
        case NS_IGMP_V2_REPORT:
                assert_int_equal(mlen, 8);
                out->group = ns_igmp_group(m);
                assert_int_equal(out->dst, out->group);
                break;
        case NS_IGMP_LEAVE:
                assert_int_equal(mlen, 8);
                out->group = ns_igmp_group(m);
                assert_int_equal(out->dst, NS_IP4_ALL_ROUTERS);
                break;
        case NS_IGMP_V3_REPORT: {
                assert_int_equal(out->dst, NS_IP4_IGMPV3_ROUTERS);
                struct ns_igmpv3_rec_iter it;
                struct ns_igmpv3_rec r;
                ns_igmpv3_rec_iter_init(&it, m, mlen);
                while (ns_igmpv3_rec_next(&it, &r) == NS_IGMPV3_REC_OK) {
                        assert_true(out->nrecs < 64);
                        out->recs[out->nrecs].type = r.type;
                        out->recs[out->nrecs].group = r.group;
                        out->recs[out->nrecs].nsources = r.nsources;
                        assert_true(r.nsources <= 16);
                        for (uint16_t i = 0; i < r.nsources; i++)
                                out->recs[out->nrecs].sources[i] = ns_igmpv3_rec_source(&r, i);
                        out->nrecs++;
                }
                break;
        }
        default:
                fail_msg("the stack sent IGMP type 0x%02x", out->type);
        }
        ns_pkt_free(pkt);
        return true;
}

/** Fails unless nothing is waiting on NIC 1. */
static void expect_silence(struct ns_test_env *env)
{
        assert_int_equal(ns_channel_queued(env->ch[1]), 0);
}

/** Expects exactly one message now: a v1/v2 report or a leave for group. */
static void expect_v12(struct ns_test_env *env, uint8_t type, ns_ip4 group)
{
        struct sent s;
        assert_true(igmp_read(env, &s));
        assert_int_equal(s.type, type);
        assert_int_equal(s.group, group);
        assert_int_equal(s.src, LOCAL);
        expect_silence(env);
}

/** Expects exactly one v3 report now, with one record (type, group). */
static void expect_v3_one(struct ns_test_env *env, uint8_t rtype, ns_ip4 group)
{
        struct sent s;
        assert_true(igmp_read(env, &s));
        assert_int_equal(s.type, NS_IGMP_V3_REPORT);
        assert_int_equal(s.nrecs, 1);
        assert_int_equal(s.recs[0].type, rtype);
        assert_int_equal(s.recs[0].group, group);
        assert_int_equal(s.recs[0].nsources, 0);
        expect_silence(env);
}

/**
 * Advances the clock in steps of step_ns for at most max_ns until the
 * stack sends something; returns the time waited (fails if nothing came).
 */
static int64_t wait_for_send(struct ns_test_env *env, int64_t max_ns, int64_t step_ns)
{
        for (int64_t t = 0; t <= max_ns; t += step_ns) {
                if (ns_channel_queued(env->ch[1]) > 0)
                        return t;
                ns_test_advance(env, step_ns);
        }
        if (ns_channel_queued(env->ch[1]) > 0)
                return max_ns;
        fail_msg("nothing sent within %lld ns", (long long)max_ns);
        return -1;
}

/** What a message from the link looks like. */
struct igmp_in {
        ns_ip4 src, dst;
        uint8_t ttl;      /* 0: 1 */
        bool no_ra;       /* leave the Router Alert option out */
        bool bad_csum;    /* spoil the IGMP checksum */
        const uint8_t *m; /* the IGMP message */
        size_t len;
};

/** Injects an IGMP message on NIC 1. */
static void igmp_inject(struct ns_test_env *env, const struct igmp_in *in)
{
        static const uint8_t ra[4] = { 148, 4, 0, 0 };
        uint8_t buf[2048];
        size_t hlen = in->no_ra ? 20 : 24;
        assert_true(hlen + in->len <= sizeof(buf));
        struct ns_ipv4_fields f = { .total_len = (uint16_t)(hlen + in->len),
                                    .id = 0x4242,
                                    .ttl = in->ttl ? in->ttl : 1,
                                    .proto = NS_IPV4_PROTO_IGMP,
                                    .src = in->src ? in->src : QUERIER,
                                    .dst = in->dst,
                                    .options = in->no_ra ? NULL : ra,
                                    .options_len = in->no_ra ? 0 : 4 };
        assert_int_equal(ns_ipv4_emit(buf, hlen, &f), hlen);
        memcpy(buf + hlen, in->m, in->len);
        if (in->bad_csum)
                buf[hlen + 2] ^= 0x5a;
        assert_int_equal(
            ns_channel_inject_bytes(env->ch[1], 0x0800, buf, (uint32_t)(hlen + in->len)), 0);
}

/** A v1 (max_resp 0) or v2 query for group (0: general), from QUERIER. */
static void query_v12(struct ns_test_env *env, ns_ip4 group, uint8_t max_resp)
{
        uint8_t m[8];
        assert_int_equal(ns_igmp_emit(m, sizeof(m), NS_IGMP_QUERY, max_resp, group), 8);
        igmp_inject(
            env, &(struct igmp_in){ .dst = group ? group : NS_IP4_ALL_SYSTEMS, .m = m, .len = 8 });
}

/** A v3 query (group 0: general) with sources, from QUERIER. */
static void query_v3(struct ns_test_env *env, ns_ip4 group, uint8_t code, const ns_ip4 *src,
                     uint16_t nsrc)
{
        uint8_t m[12 + 4 * 64];
        size_t n = ns_igmpv3_emit_query(m, sizeof(m), code, group, false, 2, 125, src, nsrc);
        assert_true(n >= 12);
        igmp_inject(
            env, &(struct igmp_in){ .dst = group ? group : NS_IP4_ALL_SYSTEMS, .m = m, .len = n });
}

/** Another host's v2 report for group. */
static void heard_report(struct ns_test_env *env, ns_ip4 from, ns_ip4 group)
{
        uint8_t m[8];
        assert_int_equal(ns_igmp_emit(m, sizeof(m), NS_IGMP_V2_REPORT, 0, group), 8);
        igmp_inject(env, &(struct igmp_in){ .src = from, .dst = group, .m = m, .len = 8 });
}

static struct ns_stats stats_now(struct ns_test_env *env)
{
        struct ns_stats st;
        ns_stack_get_stats(env->s, &st);
        return st;
}

#endif
