/* Fragmenter: HOSTILE-INPUTS.md items 47-49 and gVisor's fragmentation
 * tests (TestFragmentationWritePacket, TestFragmentationErrors rows): sizes,
 * offsets, flags, checksums and options of every fragment, and the round
 * trip through the reassembler in shuffled order. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/err.h>
#include <netstack/pkt.h>
#include <netstack/stats.h>

#include "ipv4/fragment.h"
#include "ipv4/reasm.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"

#define HEADROOM 48u

static uint64_t rng_next(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static uint8_t pat(uint32_t i)
{
        return (uint8_t)(i * 151u + (i >> 8) * 3u + 5u);
}

static uint32_t in_use(const struct ns_pkt_pool *pool)
{
        struct ns_pkt_pool_stats st;

        ns_pkt_pool_get_stats(pool, &st);
        return st.in_use;
}

/* A datagram with payload bytes pat(0..payload-1) and the given options. */
struct dgram_spec {
        uint32_t payload;
        const uint8_t *opts;
        uint8_t opts_len;
        uint8_t flags;     /* NS_IPV4_FLAG_* */
        uint16_t frag_off; /* bytes */
        uint32_t headroom;
};

static struct ns_pkt *mkdgram(struct ns_pkt_pool *pool, const struct dgram_spec *s)
{
        struct ns_ipv4_fields f = {
                .tos = 0x10,
                .id = 0xbeef,
                .flags = s->flags,
                .frag_off = s->frag_off,
                .ttl = 64,
                .proto = 17,
                .src = 0xc0000201,
                .dst = 0xc6336401,
                .options = s->opts,
                .options_len = s->opts_len,
        };
        uint32_t hlen = NS_IPV4_MIN_HDR + ((s->opts_len + 3u) & ~3u);
        struct ns_pkt *p = ns_pkt_alloc(pool, s->headroom, hlen + s->payload);
        uint8_t *d;

        assert_non_null(p);
        d = ns_pkt_put(p, hlen + s->payload);
        assert_non_null(d);
        f.total_len = (uint16_t)(hlen + s->payload);
        assert_int_equal(ns_ipv4_emit(d, hlen, &f), hlen);
        for (uint32_t i = 0; i < s->payload; i++)
                d[hlen + i] = pat(s->frag_off + i);
        ns_pkt_set_network_header(p);
        return p;
}

/* The options a later fragment must carry: the copied ones, EOL-padded. */
static uint32_t copied_opts(const uint8_t *opts, uint8_t len, uint8_t *out)
{
        struct ns_ipv4_opt_iter it;
        struct ns_ipv4_opt o;
        uint32_t n = 0;

        ns_ipv4_opt_iter_init(&it, opts, len);
        while (ns_ipv4_opt_next(&it, &o) == NS_IPV4_OPT_OK && o.type != NS_IPV4_OPT_EOL) {
                if (ns_ipv4_opt_copied(o.type)) {
                        memcpy(out + n, o.opt, o.len);
                        n += o.len;
                }
        }
        while (n % 4)
                out[n++] = 0;
        return n;
}

/*
 * Checks the fragments in l against the datagram described by s and mtu:
 * sizes, offsets, flags, header fields, checksums, options and payload
 * bytes. Returns how many there were.
 */
static uint32_t check_fragments(const struct ns_pkt_list *l, const struct dgram_spec *s,
                                uint32_t mtu, uint32_t headroom)
{
        uint8_t want_opts[40];
        uint32_t want_later = copied_opts(s->opts, s->opts_len, want_opts);
        uint32_t first_hlen = NS_IPV4_MIN_HDR + ((s->opts_len + 3u) & ~3u);
        uint32_t next_off = s->frag_off, n = 0;
        bool orig_mf = (s->flags & NS_IPV4_FLAG_MF) != 0;

        for (const struct ns_pkt *p = l->head; p; p = p->next, n++) {
                const uint8_t *h = ns_pkt_data(p);
                uint32_t hlen, chunk;
                bool last = p->next == NULL;

                if (ns_pkt_len(p) > mtu)
                        fail_msg("mtu %u payload %u: fragment %u is %u bytes", mtu, s->payload, n,
                                 ns_pkt_len(p));
                assert_int_equal(ns_ipv4_validate(h, ns_pkt_len(p)), NS_IPV4_VALID);
                hlen = (uint32_t)ns_ipv4_hdr_len(h);
                assert_true(ns_ipv4_checksum_ok(h, hlen));
                assert_int_equal(ns_ipv4_total_len(h), ns_pkt_len(p));
                assert_true(ns_pkt_headroom(p) >= headroom);
                assert_ptr_equal(ns_pkt_network_header(p), h);
                assert_int_equal(ns_ipv4_id(h), 0xbeef);
                assert_int_equal(ns_ipv4_ttl(h), 64);
                assert_int_equal(ns_ipv4_tos(h), 0x10);
                assert_int_equal(ns_ipv4_proto(h), 17);
                assert_int_equal(ns_ipv4_src(h), 0xc0000201);
                assert_int_equal(ns_ipv4_dst(h), 0xc6336401);
                assert_int_equal(ns_ipv4_df(h), (s->flags & NS_IPV4_FLAG_DF) != 0);
                if (n == 0) {
                        /* RFC 791 3.1: the first fragment keeps every option. */
                        assert_int_equal(hlen, first_hlen);
                        assert_memory_equal(h + NS_IPV4_MIN_HDR, s->opts, s->opts_len);
                } else {
                        assert_int_equal(hlen, NS_IPV4_MIN_HDR + want_later);
                        assert_memory_equal(h + NS_IPV4_MIN_HDR, want_opts, want_later);
                }
                assert_int_equal(ns_ipv4_frag_off(h), next_off);
                assert_int_equal(ns_ipv4_mf(h), !last || orig_mf);
                chunk = ns_pkt_len(p) - hlen;
                assert_true(chunk > 0);
                if (!last) {
                        /* Full fragments: (mtu - header) rounded down to 8. */
                        uint32_t m = mtu > 65535 ? 65535 : mtu;

                        assert_int_equal(chunk, (m - hlen) & ~7u);
                }
                for (uint32_t i = 0; i < chunk; i++)
                        if (h[hlen + i] != pat(next_off + i))
                                fail_msg("fragment %u byte %u wrong", n, i);
                next_off += chunk;
        }
        assert_int_equal(next_off, s->frag_off + s->payload);
        assert_int_equal(n, l->count);
        return n;
}

/* Feeds the fragments in l to a reassembler in shuffled order and checks
 * the datagram that comes out is the original. */
static void reassemble_shuffled(struct ns_pkt_pool *pool, struct ns_pkt_list *l,
                                const struct dgram_spec *s, uint64_t *seed)
{
        static struct ns_pkt *v[8200];
        struct ns_reasm_config cfg = { .high_bytes = 64u << 20,
                                       .low_bytes = 60u << 20,
                                       .max_frags = 8192 };
        struct ns_ip_stats st = { 0 };
        struct ns_reasm *r = ns__reasm_create(NULL, pool, &cfg, *seed, &st);
        struct ns_pkt *out = NULL;
        uint32_t n = 0, first_hlen = NS_IPV4_MIN_HDR + ((s->opts_len + 3u) & ~3u);

        assert_non_null(r);
        while (!ns_pkt_list_empty(l))
                v[n++] = ns_pkt_list_pop_front(l);
        for (uint32_t i = n; i > 1; i--) {
                uint32_t j = (uint32_t)(rng_next(seed) % i);
                struct ns_pkt *t = v[i - 1];

                v[i - 1] = v[j];
                v[j] = t;
        }
        for (uint32_t i = 0; i < n; i++) {
                const uint8_t *h = ns_pkt_data(v[i]);
                uint32_t hlen = (uint32_t)ns_ipv4_hdr_len(h);
                struct ns_reasm_key key = { .src = ns_ipv4_src(h),
                                            .dst = ns_ipv4_dst(h),
                                            .id = ns_ipv4_id(h),
                                            .proto = ns_ipv4_proto(h) };
                enum ns_reasm_result res =
                    ns__reasm_add(r, &key, ns_ipv4_frag_off(h), ns_ipv4_total_len(h) - hlen,
                                  ns_ipv4_mf(h), hlen, v[i], 0, &out);

                assert_int_equal(res, i + 1 == n ? NS_REASM_COMPLETE : NS_REASM_HELD);
        }
        assert_non_null(out);
        assert_int_equal(ns_pkt_len(out), first_hlen + s->payload);
        assert_memory_equal(ns_pkt_data(out) + NS_IPV4_MIN_HDR, s->opts, s->opts_len);
        for (uint32_t i = 0; i < s->payload; i++)
                if (ns_pkt_data(out)[first_hlen + i] != pat(i))
                        fail_msg("reassembled byte %u wrong (payload %u)", i, s->payload);
        ns_pkt_free(out);
        ns__reasm_destroy(r);
}

/* Fragments one datagram, checks the pieces, reassembles them. */
static void round_trip(struct ns_pkt_pool *pool, const struct dgram_spec *s, uint32_t mtu,
                       uint64_t *seed)
{
        struct ns_pkt_list l = { 0 };
        int n = ns__ipv4_fragment(pool, mkdgram(pool, s), mtu, HEADROOM, &l);

        if (n <= 0)
                fail_msg("mtu %u payload %u: %d", mtu, s->payload, n);
        assert_int_equal((uint32_t)n, check_fragments(&l, s, mtu, HEADROOM));
        reassemble_shuffled(pool, &l, s, seed);
        assert_int_equal(in_use(pool), 0);
}

/* 47, 48: every MTU 68..1500, then coarser to 9000, sampled sizes. */
static void test_mtu_sweep(void **state)
{
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        uint64_t seed = 0x1234567;

        (void)state;
        for (uint32_t mtu = 68; mtu <= 9000; mtu += mtu < 1500 ? 1 : 37) {
                struct dgram_spec s = { .headroom = 64 };

                /* Big: anywhere up to the largest payload, 65515. */
                s.payload = mtu - 19 + (uint32_t)(rng_next(&seed) % (65516 - (mtu - 19)));
                if (mtu % 97 == 0)
                        s.payload = 65515;
                round_trip(pool, &s, mtu, &seed);
                /* Small: just over the MTU, up to three fragments. */
                s.payload = mtu - 19 + (uint32_t)(rng_next(&seed) % (2 * mtu));
                round_trip(pool, &s, mtu, &seed);
        }
        ns_pkt_pool_destroy(pool);
}

/* gVisor TestFragmentationWritePacket rows (header 20 unless said). */
static void test_gvisor_rows(void **state)
{
        static const struct {
                const char *name;
                uint32_t mtu, payload;
                int frags;
        } rows[] = {
                { "No fragmentation", 1280, 1000, 1 },
                { "Fragmented", 1280, 3000, 3 },
                { "Fragmented with mtu not a multiple of 8", 1286, 3000, 3 },
                { "No fragmentation with an MTU above 1500", 2000, 1500, 1 },
                { "Fragmented into four", 1280, 5000, 4 },
                { "Fragmented with MTU smaller than payload", 1280, 20000, 16 },
                { "65000 bytes over MTU 1500", 1500, 65000, 44 },
                { "Maximum payload at the smallest MTU", 68, 65515, 1365 },
        };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        uint64_t seed = 99;

        (void)state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct dgram_spec s = { .payload = rows[i].payload, .headroom = 64 };
                struct ns_pkt_list l = { 0 };
                int n = ns__ipv4_fragment(pool, mkdgram(pool, &s), rows[i].mtu, HEADROOM, &l);

                if (n != rows[i].frags)
                        fail_msg("%s: %d fragments, want %d", rows[i].name, n, rows[i].frags);
                check_fragments(&l, &s, rows[i].mtu, HEADROOM);
                reassemble_shuffled(pool, &l, &s, &seed);
                assert_int_equal(in_use(pool), 0);
        }
        ns_pkt_pool_destroy(pool);
}

/* RFC 791 3.1: RR and TS in the first fragment only; copied options
 * (security 130, LSRR 131) in every fragment. */
static void test_options(void **state)
{
        static const uint8_t rr_ts_sec_lsrr[] = {
                7,   7, 4, 0,   0,  0,   0,    /* RR, one slot */
                68,  8, 5, 0,   0,  0,   0, 0, /* TS, one slot */
                130, 4, 0, 0,                  /* security (copied) */
                1,                             /* NOP */
                131, 7, 4, 198, 51, 100, 9,    /* LSRR (copied) */
                0,                             /* EOL */
        };
        static const uint8_t only_uncopied[] = { 7, 7, 4, 0, 0, 0, 0, 1 };
        static const uint8_t max_area[40] = { 131, 39, 4 };
        static const struct {
                const char *name;
                const uint8_t *opts;
                uint8_t len;
                uint32_t mtu;
        } rows[] = {
                { "RR TS security LSRR", rr_ts_sec_lsrr, sizeof(rr_ts_sec_lsrr), 576 },
                { "RR TS security LSRR, small MTU", rr_ts_sec_lsrr, sizeof(rr_ts_sec_lsrr), 68 },
                { "only uncopied options", only_uncopied, sizeof(only_uncopied), 100 },
                { "60-byte header of copied options at MTU 68", max_area, 40, 68 },
        };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        uint64_t seed = 5;

        (void)state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct dgram_spec s = { .payload = 3001,
                                        .opts = rows[i].opts,
                                        .opts_len = rows[i].len,
                                        .headroom = 64 };

                round_trip(pool, &s, rows[i].mtu, &seed);
        }
        ns_pkt_pool_destroy(pool);
}

/* 49: refragmenting a fragment keeps its offset base, its identification,
 * and MF on the last piece when it had MF (lwIP patch #9645). */
static void test_refragment(void **state)
{
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);

        (void)state;
        for (int mf = 0; mf <= 1; mf++) {
                struct dgram_spec s = { .payload = 1480,
                                        .flags = mf ? NS_IPV4_FLAG_MF : 0,
                                        .frag_off = 2960,
                                        .headroom = 64 };
                struct ns_pkt_list l = { 0 };
                int n = ns__ipv4_fragment(pool, mkdgram(pool, &s), 576, HEADROOM, &l);

                assert_int_equal(n, 3);
                check_fragments(&l, &s, 576, HEADROOM);
                assert_int_equal(ns_ipv4_mf(ns_pkt_data(l.tail)), mf);
                ns_pkt_list_free(&l);
        }
        assert_int_equal(in_use(pool), 0);
        ns_pkt_pool_destroy(pool);
}

/* DF is copied, not enforced: the caller decides. */
static void test_df_copied(void **state)
{
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        struct dgram_spec s = { .payload = 4000, .flags = NS_IPV4_FLAG_DF, .headroom = 64 };
        struct ns_pkt_list l = { 0 };

        (void)state;
        assert_int_equal(ns__ipv4_fragment(pool, mkdgram(pool, &s), 1500, HEADROOM, &l), 3);
        check_fragments(&l, &s, 1500, HEADROOM);
        ns_pkt_list_free(&l);
        ns_pkt_pool_destroy(pool);
}

/* 47, gVisor TestFragmentationErrors: MTU below header + 8 fails cleanly. */
static void test_mtu_too_small(void **state)
{
        static const uint8_t opts[40] = { 130, 40 };
        static const struct {
                const char *name;
                uint8_t opts_len;
                uint32_t mtu;
                int want;
        } rows[] = {
                { "MTU smaller than header", 0, 19, NS_ERR_MESSAGE_TOO_LONG },
                { "MTU smaller than header + 8", 0, 27, NS_ERR_MESSAGE_TOO_LONG },
                { "MTU exactly header + 8", 0, 28, 125 },
                { "MTU zero", 0, 0, NS_ERR_MESSAGE_TOO_LONG },
                { "big header, MTU 67", 40, 67, NS_ERR_MESSAGE_TOO_LONG },
                { "big header, MTU 68", 40, 68, 125 },
        };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);

        (void)state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct dgram_spec s = {
                        .payload = 1000, .opts = opts, .opts_len = rows[i].opts_len, .headroom = 64
                };
                struct ns_pkt_list l = { 0 };
                struct ns_pkt *sentinel = ns_pkt_alloc(pool, 0, 1);
                int n;

                ns_pkt_list_push_back(&l, sentinel);
                n = ns__ipv4_fragment(pool, mkdgram(pool, &s), rows[i].mtu, HEADROOM, &l);
                if (n != rows[i].want)
                        fail_msg("%s: got %d want %d", rows[i].name, n, rows[i].want);
                if (n < 0) {
                        assert_int_equal(l.count, 1);
                        assert_ptr_equal(l.head, sentinel);
                        assert_null(sentinel->next);
                } else {
                        assert_int_equal(l.count, 1 + (uint32_t)n);
                }
                ns_pkt_list_free(&l);
                assert_int_equal(in_use(pool), 0);
        }
        ns_pkt_pool_destroy(pool);
}

/* gVisor TestFragmentationErrors "error on first/second/... fragment",
 * here as pool exhaustion at each fragment: NS_ERR_NO_BUFFER_SPACE,
 * *out untouched, nothing leaked (HOSTILE-INPUTS 45). */
static void test_pool_exhaustion(void **state)
{
        (void)state;
        for (uint32_t budget = 1; budget <= 6; budget++) {
                /* The datagram plus `budget - 1` more packets. */
                struct ns_pkt_pool_config pc = { .max_in_use = budget + 1 };
                struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, &pc);
                struct dgram_spec s = { .payload = 5000, .headroom = 64 };
                struct ns_pkt_list l = { 0 };
                struct ns_pkt *sentinel = ns_pkt_alloc(pool, 0, 1);
                int n;

                ns_pkt_list_push_back(&l, sentinel);
                n = ns__ipv4_fragment(pool, mkdgram(pool, &s), 1500, HEADROOM, &l);
                if (budget - 1 < 3) {
                        assert_int_equal(n, NS_ERR_NO_BUFFER_SPACE);
                        assert_int_equal(l.count, 1);
                        assert_ptr_equal(l.tail, sentinel);
                        assert_null(sentinel->next);
                } else {
                        assert_int_equal(n, 4);
                        assert_int_equal(l.count, 5);
                }
                ns_pkt_list_free(&l);
                assert_int_equal(in_use(pool), 0);
                ns_pkt_pool_destroy(pool);
        }
}

/* A shared datagram is copied, never written: its other holder sees the
 * original bytes. Too little headroom also forces a copy. */
static void test_shared_or_short_headroom(void **state)
{
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        uint64_t seed = 11;

        (void)state;
        for (int shared = 0; shared <= 1; shared++) {
                struct dgram_spec s = { .payload = 3000, .headroom = shared ? 64 : 8 };
                struct ns_pkt *p = mkdgram(pool, &s);
                struct ns_pkt *clone = shared ? ns_pkt_clone(p) : NULL;
                uint8_t before[3020];
                struct ns_pkt_list l = { 0 };

                memcpy(before, ns_pkt_data(p), sizeof(before));
                assert_int_equal(ns__ipv4_fragment(pool, p, 1500, HEADROOM, &l), 3);
                check_fragments(&l, &s, 1500, HEADROOM);
                if (clone) {
                        assert_int_equal(ns_pkt_len(clone), sizeof(before));
                        assert_memory_equal(ns_pkt_data(clone), before, sizeof(before));
                        ns_pkt_free(clone);
                }
                reassemble_shuffled(pool, &l, &s, &seed);
                assert_int_equal(in_use(pool), 0);
        }
        ns_pkt_pool_destroy(pool);
}

/* Bad input: a header that is not IPv4, lies about its length, or whose
 * offset + payload passes 65535; NULL arguments. */
static void test_bad_input(void **state)
{
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
        struct dgram_spec s = { .payload = 3000, .headroom = 64 };
        struct ns_pkt_list l = { 0 };
        struct ns_pkt *p;

        (void)state;
        p = mkdgram(pool, &s);
        ns_pkt_data(p)[0] = 0x65;
        assert_int_equal(ns__ipv4_fragment(pool, p, 1500, 0, &l), NS_ERR_MALFORMED_HEADER);
        p = mkdgram(pool, &s);
        ns_ipv4_set_total_len(ns_pkt_data(p), 4000);
        assert_int_equal(ns__ipv4_fragment(pool, p, 1500, 0, &l), NS_ERR_MALFORMED_HEADER);
        p = mkdgram(pool, &s);
        ns_pkt_data(p)[0] = 0x44;
        assert_int_equal(ns__ipv4_fragment(pool, p, 1500, 0, &l), NS_ERR_MALFORMED_HEADER);
        s.frag_off = 63000;
        p = mkdgram(pool, &s);
        assert_int_equal(ns__ipv4_fragment(pool, p, 1500, 0, &l), NS_ERR_MALFORMED_HEADER);
        p = ns_pkt_from_bytes(pool, 0, "\x45", 1);
        assert_int_equal(ns__ipv4_fragment(pool, p, 1500, 0, &l), NS_ERR_MALFORMED_HEADER);
        assert_int_equal(ns__ipv4_fragment(pool, NULL, 1500, 0, &l), NS_ERR_INVALID_ARGUMENT);
        s.frag_off = 0;
        assert_int_equal(ns__ipv4_fragment(pool, mkdgram(pool, &s), 1500, 0, NULL),
                         NS_ERR_INVALID_ARGUMENT);
        assert_true(ns_pkt_list_empty(&l));
        /* Link padding beyond Total Length is not fragmented. */
        p = mkdgram(pool, &s);
        ns_ipv4_set_total_len(ns_pkt_data(p), 1000);
        ns_ipv4_fill_checksum(ns_pkt_data(p));
        assert_int_equal(ns__ipv4_fragment(pool, p, 1500, 0, &l), 1);
        assert_int_equal(ns_pkt_len(l.head), 1000);
        ns_pkt_list_free(&l);
        assert_int_equal(in_use(pool), 0);
        ns_pkt_pool_destroy(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gvisor_rows),
                cmocka_unit_test(test_mtu_sweep),
                cmocka_unit_test(test_options),
                cmocka_unit_test(test_refragment),
                cmocka_unit_test(test_df_copied),
                cmocka_unit_test(test_mtu_too_small),
                cmocka_unit_test(test_pool_exhaustion),
                cmocka_unit_test(test_shared_or_short_headroom),
                cmocka_unit_test(test_bad_input),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
