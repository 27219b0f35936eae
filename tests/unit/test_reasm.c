/* Reassembler: gVisor's TestReceiveFragments rows at the module level, and
 * HOSTILE-INPUTS.md items 23-36 and 39-45. Every test ends by destroying
 * the reassembler and checking that the pool has no packet left. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/pkt.h>
#include <netstack/stats.h>

#include "ipv4/reasm.h"

#define HDR     20u
#define SEC     1000000000LL
#define TIMEOUT (30 * SEC)
#define FRAG_HR 64u

/* ---- fixture ---- */

struct fx {
        struct ns_pkt_pool *pool;
        struct ns_reasm *r;
        struct ns_ip_stats st;
        int64_t now;
};

static void fx_init(struct fx *f, const struct ns_reasm_config *cfg)
{
        memset(f, 0, sizeof(*f));
        f->pool = ns_pkt_pool_create(NULL, NULL);
        assert_non_null(f->pool);
        f->r = ns__reasm_create(NULL, f->pool, cfg, 0x0123456789abcdefull, &f->st);
        assert_non_null(f->r);
        f->now = 1000 * SEC;
}

static uint32_t in_use(const struct ns_pkt_pool *pool)
{
        struct ns_pkt_pool_stats st;

        ns_pkt_pool_get_stats(pool, &st);
        return st.in_use;
}

/* Destroys everything and checks no packet leaked (HOSTILE-INPUTS 45). */
static void fx_done(struct fx *f)
{
        ns__reasm_destroy(f->r);
        assert_int_equal(in_use(f->pool), 0);
        ns_pkt_pool_destroy(f->pool);
}

/* ---- datagrams: payload byte i of the datagram with key k ---- */

static const struct ns_reasm_key keys[] = {
        { .src = 0xc0000201, .dst = 0xc0000202, .id = 1, .proto = 17 },
        { .src = 0xc0000201, .dst = 0xc0000202, .id = 2, .proto = 17 },
        { .src = 0xc0000203, .dst = 0xc0000202, .id = 1, .proto = 17 }, /* other source */
        { .src = 0xc0000201, .dst = 0xc0000202, .id = 1, .proto = 6 },  /* other protocol */
        { .src = 0xc0000201, .dst = 0xc0000204, .id = 1, .proto = 17 }, /* other destination */
};

static uint8_t pat(unsigned k, uint32_t i)
{
        return (uint8_t)(i * 131u + (i >> 8) * 7u + k * 29u + 1u);
}

/* The fake network header of a fragment: recognisable per key and offset. */
static void fill_hdr(uint8_t *h, unsigned k, uint32_t off)
{
        for (unsigned i = 0; i < HDR; i++)
                h[i] = (uint8_t)(0x40 + k * 16 + i + off);
}

static struct ns_pkt *mkfrag(struct fx *f, unsigned k, uint32_t off, uint32_t len)
{
        struct ns_pkt *p = ns_pkt_alloc(f->pool, FRAG_HR, HDR + len);
        uint8_t *d;

        assert_non_null(p);
        d = ns_pkt_put(p, HDR + len);
        assert_non_null(d);
        fill_hdr(d, k, off);
        for (uint32_t i = 0; i < len; i++)
                d[HDR + i] = pat(k, off + i);
        return p;
}

static enum ns_reasm_result add(struct fx *f, unsigned k, uint32_t off, uint32_t len, bool more,
                                struct ns_pkt **out)
{
        return ns__reasm_add(f->r, &keys[k], off, len, more, HDR, mkfrag(f, k, off, len), f->now,
                             out);
}

/* Checks a completed datagram: offset-0 header, then payload 0..len-1. */
static void check_datagram(const struct ns_pkt *p, unsigned k, uint32_t len)
{
        uint8_t h[HDR];
        const uint8_t *d = ns_pkt_data(p);

        assert_int_equal(ns_pkt_len(p), HDR + len);
        fill_hdr(h, k, 0);
        assert_memory_equal(d, h, HDR);
        for (uint32_t i = 0; i < len; i++)
                if (d[HDR + i] != pat(k, i))
                        fail_msg("datagram %u byte %u: got %u want %u", k, i, d[HDR + i],
                                 pat(k, i));
        assert_ptr_equal(ns_pkt_network_header(p), d);
}

/* ---- table-driven rows ---- */

struct step {
        uint8_t key;
        uint32_t off, len;
        bool more;
        enum ns_reasm_result want;
        uint32_t want_len; /* payload length of the datagram when COMPLETE */
};

struct row {
        const char *name;
        struct step steps[8];
        size_t n;
        uint32_t held_after; /* datagrams still held at the end */
};

#define H  NS_REASM_HELD
#define C  NS_REASM_COMPLETE
#define D  NS_REASM_DUPLICATE
#define M  NS_REASM_MALFORMED
#define OV NS_REASM_OVERLAP
#define CF NS_REASM_CONFLICT

static const struct row rows[] = {
        /* gVisor TestReceiveFragments */
        { "No fragmentation", { { 0, 0, 100, false, C, 100 } }, 1, 0 },
        { "No fragmentation with size not aligned to 8", { { 0, 0, 99, false, C, 99 } }, 1, 0 },
        { "More fragments without payload", { { 0, 0, 0, true, M, 0 } }, 1, 0 },
        { "Non-zero fragment offset without payload", { { 0, 8, 0, false, M, 0 } }, 1, 0 },
        { "Two fragments", { { 0, 0, 64, true, H, 0 }, { 0, 64, 64, false, C, 128 } }, 2, 0 },
        { "Two fragments out of order",
          { { 0, 64, 64, false, H, 0 }, { 0, 0, 64, true, C, 128 } },
          2,
          0 },
        { "Two fragments with last fragment size not aligned to 8",
          { { 0, 0, 64, true, H, 0 }, { 0, 64, 61, false, C, 125 } },
          2,
          0 },
        { "Two fragments with first fragment size not aligned to 8",
          { { 0, 0, 63, true, M, 0 }, { 0, 64, 64, false, H, 0 } },
          2,
          1 },
        { "Second fragment has MoreFlags set",
          { { 0, 0, 64, true, H, 0 }, { 0, 64, 64, true, H, 0 } },
          2,
          1 },
        { "Two fragments with different IDs",
          { { 0, 0, 64, true, H, 0 }, { 1, 64, 64, false, H, 0 } },
          2,
          2 },
        { "Two interleaved fragmented packets",
          { { 0, 0, 64, true, H, 0 },
            { 1, 0, 32, true, H, 0 },
            { 0, 64, 64, false, C, 128 },
            { 1, 32, 40, false, C, 72 } },
          4,
          0 },
        { "Two interleaved fragmented packets from different sources but with same ID",
          { { 0, 0, 64, true, H, 0 },
            { 2, 0, 32, true, H, 0 },
            { 0, 64, 64, false, C, 128 },
            { 2, 32, 40, false, C, 72 } },
          4,
          0 },
        { "Same ID different protocols are different datagrams (HOSTILE 34)",
          { { 0, 0, 64, true, H, 0 }, { 3, 64, 64, false, H, 0 }, { 4, 64, 8, false, H, 0 } },
          3,
          3 },
        { "Fragment without followup", { { 0, 0, 64, true, H, 0 } }, 1, 1 },
        { "Two fragments reassembled into a maximum UDP packet",
          { { 0, 0, 65512, true, H, 0 }, { 0, 65512, 3, false, C, 65515 } },
          2,
          0 },
        { "Two fragments with MF flag reassembled into a maximum UDP packet",
          { { 0, 0, 65512, true, H, 0 }, { 0, 65512, 3, true, M, 0 } },
          2,
          1 },
        { "29 header plus payload past 65535 (ping of death)",
          { { 0, 0, 65512, true, H, 0 }, { 0, 65512, 4, false, M, 0 } },
          2,
          1 },
        { "29 offset plus payload past 65535",
          { { 0, 0, 65512, true, H, 0 }, { 0, 65528, 8, false, M, 0 } },
          2,
          1 },
        /* HOSTILE-INPUTS C */
        { "23 teardrop overlap at the head",
          { { 0, 8, 16, true, H, 0 }, { 0, 0, 16, true, OV, 0 } },
          2,
          0 },
        { "23 teardrop overlap in the middle",
          { { 0, 0, 8, true, H, 0 },
            { 0, 16, 8, true, H, 0 },
            { 0, 32, 8, false, H, 0 },
            { 0, 8, 16, true, OV, 0 } },
          4,
          0 },
        { "23 teardrop overlap at the tail",
          { { 0, 0, 16, true, H, 0 }, { 0, 16, 16, true, H, 0 }, { 0, 24, 16, false, OV, 0 } },
          3,
          0 },
        { "23 same offset, different length",
          { { 0, 0, 16, true, H, 0 }, { 0, 0, 24, true, OV, 0 } },
          2,
          0 },
        { "24 exact duplicate kept",
          { { 0, 0, 8, true, H, 0 },
            { 0, 0, 8, true, D, 0 },
            { 0, 8, 5, false, C, 13 },
            { 0, 8, 5, false, H, 0 } },
          4,
          1 },
        { "23 subset overlap", { { 0, 0, 24, true, H, 0 }, { 0, 8, 8, true, OV, 0 } }, 2, 0 },
        { "23 superset overlap", { { 0, 8, 8, true, H, 0 }, { 0, 0, 24, true, OV, 0 } }, 2, 0 },
        { "25 overlap at the lowest offset (lwIP #51596)",
          { { 0, 8, 8, false, H, 0 }, { 0, 0, 16, true, OV, 0 } },
          2,
          0 },
        { "26 hole remains: not complete",
          { { 0, 0, 8, true, H, 0 }, { 0, 16, 8, false, H, 0 } },
          2,
          1 },
        { "26 final discarded: not complete (lwIP #51597)",
          { { 0, 0, 8, true, H, 0 }, { 0, 8, 7, true, M, 0 } },
          2,
          1 },
        { "28 two finals that disagree",
          { { 0, 16, 8, false, H, 0 }, { 0, 8, 8, false, CF, 0 } },
          2,
          0 },
        { "28 two finals that agree are duplicates",
          { { 0, 16, 8, false, H, 0 }, { 0, 16, 8, false, D, 0 }, { 0, 0, 16, true, C, 24 } },
          3,
          0 },
        { "28 fragment starting at the final end",
          { { 0, 8, 8, false, H, 0 }, { 0, 16, 8, true, CF, 0 } },
          2,
          0 },
        { "28 final ending before held data",
          { { 0, 16, 8, true, H, 0 }, { 0, 0, 8, false, CF, 0 } },
          2,
          0 },
        { "28 same range, finality differs",
          { { 0, 8, 8, true, H, 0 }, { 0, 8, 8, false, CF, 0 } },
          2,
          0 },
        { "31 lengths that are multiples of 256",
          { { 0, 0, 256, true, H, 0 },
            { 0, 256, 512, false, C, 768 },
            { 1, 0, 1024, true, H, 0 },
            { 1, 1024, 256, false, C, 1280 } },
          4,
          0 },
        { "33 last fragment of one byte",
          { { 0, 8, 1, false, H, 0 }, { 0, 0, 8, true, C, 9 } },
          2,
          0 },
        { "33 offset not a multiple of 8", { { 0, 4, 8, false, M, 0 } }, 1, 0 },
        { "35 same key reused after completion",
          { { 0, 0, 8, true, H, 0 },
            { 0, 8, 8, false, C, 16 },
            { 0, 8, 8, false, H, 0 },
            { 0, 0, 8, true, C, 16 } },
          4,
          0 },
};

static void run_row(const struct row *row)
{
        struct fx f;
        uint64_t completes = 0, abandons = 0, overlaps = 0;

        fx_init(&f, NULL);
        for (size_t i = 0; i < row->n; i++) {
                const struct step *s = &row->steps[i];
                struct ns_pkt *out = (struct ns_pkt *)1;
                enum ns_reasm_result want = s->want;
                enum ns_reasm_result got = add(&f, s->key, s->off, s->len, s->more, &out);

                if (got != want)
                        fail_msg("%s: step %zu: got %s want %s", row->name, i,
                                 ns__reasm_result_name(got), ns__reasm_result_name(want));
                if (got == C) {
                        assert_non_null(out);
                        check_datagram(out, s->key, s->want_len);
                        ns_pkt_free(out);
                        completes++;
                } else {
                        assert_null(out);
                }
                if (got == OV)
                        overlaps++;
                if (got == OV || got == CF)
                        abandons++;
        }
        if (ns__reasm_datagrams_held(f.r) != row->held_after)
                fail_msg("%s: %u datagrams held, want %u", row->name, ns__reasm_datagrams_held(f.r),
                         row->held_after);
        assert_int_equal(f.st.reasm_reqds, row->n);
        assert_int_equal(f.st.reasm_oks, completes);
        assert_int_equal(f.st.reasm_fails, abandons);
        assert_int_equal(f.st.reasm_overlaps, overlaps);
        assert_int_equal(ns__reasm_bytes_held(f.r) == 0, row->held_after == 0);
        fx_done(&f);
}

static void test_rows(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                run_row(&rows[i]);
}

/* 27: 64 KiB of MF=1 fragments never completes. */
static void test_mf_set_64k_never_completes(void **state)
{
        struct fx f;
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, NULL);
        /* [0, 65512) is every payload byte a 20-byte header allows. */
        for (uint32_t off = 0; off < 65512; off += 1480) {
                uint32_t len = 65512 - off < 1480 ? 65512 - off : 1480;

                assert_int_equal(add(&f, 0, off, len, true, &out), H);
        }
        assert_int_equal(ns__reasm_datagrams_held(f.r), 1);
        assert_int_equal(f.st.reasm_oks, 0);
        fx_done(&f);
}

/* 32: a fragment claiming more bytes than it carries. */
static void test_claimed_length_beyond_packet(void **state)
{
        struct fx f;
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, NULL);
        assert_int_equal(
            ns__reasm_add(f.r, &keys[0], 0, 72, true, HDR, mkfrag(&f, 0, 0, 64), f.now, &out), M);
        assert_int_equal(
            ns__reasm_add(f.r, &keys[0], 0, 8, true, 200, mkfrag(&f, 0, 0, 64), f.now, &out), M);
        assert_int_equal(ns__reasm_add(f.r, &keys[0], 0, 8, true, HDR, NULL, f.now, &out), M);
        /* Link padding beyond payload_len is ignored. */
        assert_int_equal(
            ns__reasm_add(f.r, &keys[0], 0, 8, true, HDR, mkfrag(&f, 0, 0, 64), f.now, &out), H);
        assert_int_equal(add(&f, 0, 8, 3, false, &out), C);
        check_datagram(out, 0, 11);
        ns_pkt_free(out);
        fx_done(&f);
}

/* A fragment with a hdr-byte header (pattern per key) and payload bytes. */
static struct ns_pkt *mkraw(struct fx *f, uint32_t hdr, unsigned k, uint32_t off, uint32_t len)
{
        struct ns_pkt *p = ns_pkt_alloc(f->pool, FRAG_HR, hdr + len);
        uint8_t *d;

        assert_non_null(p);
        d = ns_pkt_put(p, hdr + len);
        assert_non_null(d);
        for (uint32_t i = 0; i < hdr; i++)
                d[i] = (uint8_t)(0x80 + i);
        for (uint32_t i = 0; i < len; i++)
                d[hdr + i] = pat(k, off + i);
        return p;
}

/* 29: the module's own bound is offset + length <= 65535, exactly. */
static void test_payload_boundary_without_header(void **state)
{
        struct fx f;
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, NULL);
        assert_int_equal(
            ns__reasm_add(f.r, &keys[0], 0, 65528, true, 0, mkraw(&f, 0, 0, 0, 65528), f.now, &out),
            H);
        assert_int_equal(ns__reasm_add(f.r, &keys[0], 65528, 8, false, 0, mkraw(&f, 0, 0, 65528, 8),
                                       f.now, &out),
                         M);
        assert_int_equal(ns__reasm_add(f.r, &keys[0], 65528, 7, false, 0, mkraw(&f, 0, 0, 65528, 7),
                                       f.now, &out),
                         C);
        assert_int_equal(ns_pkt_len(out), 65535);
        for (uint32_t i = 0; i < 65535; i++)
                if (ns_pkt_data(out)[i] != pat(0, i))
                        fail_msg("byte %u", i);
        ns_pkt_free(out);
        fx_done(&f);
}

/* 29, 36: a first fragment with a longer header than the final one was
 * checked with would make a datagram past 65535: abandoned at completion. */
static void test_oversize_at_completion(void **state)
{
        struct fx f;
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, NULL);
        assert_int_equal(ns__reasm_add(f.r, &keys[0], 65472, 40, false, 20,
                                       mkraw(&f, 20, 0, 65472, 40), f.now, &out),
                         H);
        assert_int_equal(ns__reasm_add(f.r, &keys[0], 0, 65472, true, 60,
                                       mkraw(&f, 60, 0, 0, 65472), f.now, &out),
                         CF);
        assert_null(out);
        assert_int_equal(ns__reasm_datagrams_held(f.r), 0);
        assert_int_equal(f.st.reasm_fails, 1);
        /* With a 20-byte first header the same datagram completes. */
        assert_int_equal(ns__reasm_add(f.r, &keys[0], 65472, 40, false, 20,
                                       mkraw(&f, 20, 0, 65472, 40), f.now, &out),
                         H);
        assert_int_equal(ns__reasm_add(f.r, &keys[0], 0, 65472, true, 20,
                                       mkraw(&f, 20, 0, 0, 65472), f.now, &out),
                         C);
        assert_int_equal(ns_pkt_len(out), 65532);
        ns_pkt_free(out);
        fx_done(&f);
}

/* ---- shuffling ---- */

static uint64_t rng_next(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static void shuffle(uint32_t *v, size_t n, uint64_t *s)
{
        for (size_t i = n; i > 1; i--) {
                size_t j = (size_t)(rng_next(s) % i);
                uint32_t t = v[i - 1];

                v[i - 1] = v[j];
                v[j] = t;
        }
}

/* 40 FragmentSmack: 1000 8-byte fragments in random order complete. */
static void test_fragmentsmack_1000_shuffled(void **state)
{
        struct fx f;
        uint32_t order[1000];
        uint64_t seed = 42;
        struct ns_pkt *out = NULL;

        (void)state;
        fx_init(&f, NULL);
        for (uint32_t i = 0; i < 1000; i++)
                order[i] = i;
        shuffle(order, 1000, &seed);
        for (uint32_t i = 0; i < 1000; i++) {
                uint32_t k = order[i];
                enum ns_reasm_result res = add(&f, 0, k * 8, 8, k != 999, &out);

                assert_int_equal(res, i == 999 ? C : H);
        }
        check_datagram(out, 0, 8000);
        ns_pkt_free(out);
        assert_int_equal(ns__reasm_bytes_held(f.r), 0);
        fx_done(&f);
}

/*
 * The fragment tree stays a balanced AVL tree whatever the arrival order:
 * ascending, descending, shuffled, and alternating ends. 1000 fragments
 * (the default cap is 1024) never reach height 15 (1.44 log2 n bounds it).
 */
static void test_tree_stays_balanced(void **state)
{
        (void)state;
        enum { N = 1000 };
        uint32_t order[N];
        for (int kind = 0; kind < 4; kind++) {
                struct fx f;
                struct ns_pkt *out = NULL;
                uint64_t seed = 7 + (uint64_t)kind;
                fx_init(&f, NULL);
                for (uint32_t i = 0; i < N; i++) {
                        switch (kind) {
                        case 0:
                                order[i] = i;
                                break;
                        case 1:
                                order[i] = N - 1 - i;
                                break;
                        case 2:
                                order[i] = i;
                                break;
                        default:
                                order[i] = i % 2 ? N - 1 - i / 2 : i / 2;
                                break;
                        }
                }
                if (kind == 2)
                        shuffle(order, N, &seed);
                for (uint32_t i = 0; i < N; i++) {
                        /* MF on every fragment: the datagram never completes. */
                        assert_int_equal(add(&f, 0, order[i] * 8, 8, true, &out), H);
                        uint32_t h = 0;
                        assert_true(ns__reasm_trees_valid(f.r, &h));
                        assert_true(h <= 15);
                }
                uint32_t h = 0;
                assert_true(ns__reasm_trees_valid(f.r, &h));
                assert_true(h >= 10); /* 1000 nodes need at least 10 levels */
                fx_done(&f);
        }
}

/* 40: exceeding the per-datagram fragment cap abandons the datagram. */
static void test_fragment_cap(void **state)
{
        struct ns_reasm_config cfg = { .max_frags = 100 };
        struct fx f;
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, &cfg);
        for (uint32_t i = 0; i < 100; i++)
                assert_int_equal(add(&f, 0, 8 * (199 - i), 8, true, &out), H);
        assert_int_equal(add(&f, 0, 0, 8, true, &out), NS_REASM_TOO_MANY);
        assert_int_equal(ns__reasm_datagrams_held(f.r), 0);
        assert_int_equal(f.st.reasm_fails, 1);
        fx_done(&f);
}

/* 39 Rose: first + last never completed; eviction keeps memory bounded
 * and normal traffic still completes (42). */
static void test_rose_eviction(void **state)
{
        struct ns_reasm_config cfg = { .high_bytes = 256 << 10, .low_bytes = 192 << 10 };
        struct fx f;
        struct ns_pkt *out;
        struct ns_reasm_key k = keys[0];

        (void)state;
        fx_init(&f, &cfg);
        for (uint32_t id = 0; id < 500; id++) {
                k.id = 1000 + id;
                assert_int_equal(
                    ns__reasm_add(f.r, &k, 0, 1480, true, HDR, mkfrag(&f, 0, 0, 1480), f.now, &out),
                    H);
                assert_int_equal(ns__reasm_add(f.r, &k, 65000, 8, false, HDR,
                                               mkfrag(&f, 0, 65000, 8), f.now, &out),
                                 H);
                assert_true(ns__reasm_bytes_held(f.r) <= cfg.high_bytes);
        }
        assert_true(f.st.reasm_fails > 0);
        assert_true(ns__reasm_datagrams_held(f.r) < 500);
        /* Every held fragment is a live packet; nothing else is. */
        assert_int_equal(in_use(f.pool), 2 * ns__reasm_datagrams_held(f.r));
        /* The newest datagram survived; a fresh one completes. */
        assert_int_equal(add(&f, 1, 0, 64, true, &out), H);
        assert_int_equal(add(&f, 1, 64, 10, false, &out), C);
        check_datagram(out, 1, 74);
        ns_pkt_free(out);
        fx_done(&f);
}

/* gVisor TestMemoryLimitsIgnoresDuplicates: a duplicate costs nothing. */
static void test_duplicates_cost_nothing(void **state)
{
        struct fx f;
        struct ns_pkt *out;
        uint64_t held;

        (void)state;
        fx_init(&f, NULL);
        assert_int_equal(add(&f, 0, 0, 64, true, &out), H);
        held = ns__reasm_bytes_held(f.r);
        assert_true(held >= 2048); /* the fragment's whole buffer, not 64 bytes */
        for (int i = 0; i < 10; i++)
                assert_int_equal(add(&f, 0, 0, 64, true, &out), D);
        assert_int_equal(ns__reasm_bytes_held(f.r), held);
        assert_int_equal(in_use(f.pool), 1);
        fx_done(&f);
}

/* gVisor TestMemoryLimits: going over the limit evicts the oldest first. */
static void test_eviction_is_oldest_first(void **state)
{
        struct ns_reasm_config cfg;
        struct fx f;
        struct ns_pkt *out;
        uint64_t cost;

        (void)state;
        /* Measure what one single-fragment datagram costs. */
        fx_init(&f, NULL);
        assert_int_equal(add(&f, 0, 0, 8, true, &out), H);
        cost = ns__reasm_bytes_held(f.r);
        fx_done(&f);
        cfg = (struct ns_reasm_config){ .high_bytes = 4 * cost + cost / 2,
                                        .low_bytes = 2 * cost + cost / 2 };
        fx_init(&f, &cfg);
        for (unsigned k = 0; k < 5; k++) {
                assert_int_equal(add(&f, k, 0, 8, true, &out), H);
                f.now += SEC;
        }
        /* The fifth went over 4.5 datagrams: evicted down to 2.5 with it. */
        assert_int_equal(ns__reasm_datagrams_held(f.r), 2);
        assert_int_equal(f.st.reasm_fails, 3);
        assert_true(ns__reasm_bytes_held(f.r) <= cfg.low_bytes);
        /* The newest survived and completes; the oldest is gone. */
        assert_int_equal(add(&f, 4, 8, 8, false, &out), C);
        check_datagram(out, 4, 16);
        ns_pkt_free(out);
        assert_int_equal(add(&f, 3, 8, 8, false, &out), C);
        ns_pkt_free(out);
        assert_int_equal(add(&f, 0, 8, 8, false, &out), H);
        fx_done(&f);
}

/* A fragment that alone exceeds the limit is refused and says so. */
static void test_fragment_too_big_for_limit(void **state)
{
        struct ns_reasm_config cfg = { .high_bytes = 4096, .low_bytes = 2048 };
        struct fx f;
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, &cfg);
        assert_int_equal(add(&f, 0, 0, 8000, true, &out), NS_REASM_NO_MEMORY);
        assert_int_equal(ns__reasm_datagrams_held(f.r), 0);
        assert_int_equal(ns__reasm_bytes_held(f.r), 0);
        assert_int_equal(f.st.reasm_fails, 1);
        fx_done(&f);
}

/* ---- timeouts (43, 44, 46) ---- */

struct timeouts {
        unsigned calls;
        bool had_first;
        uint8_t first_hdr[HDR];
        struct ns_reasm_key key;
};

static void on_timeout(void *ctx, const struct ns_reasm_key *key, const struct ns_pkt *first)
{
        struct timeouts *t = ctx;

        t->calls++;
        t->key = *key;
        t->had_first = first != NULL;
        if (first)
                memcpy(t->first_hdr, ns_pkt_data(first), HDR);
}

struct timeout_row {
        const char *name;
        struct step steps[3];
        size_t n;
        bool had_first;
};

static const struct timeout_row timeout_rows[] = {
        { "first fragment only", { { 0, 0, 64, true, H, 0 } }, 1, true },
        { "second fragment only", { { 0, 64, 64, false, H, 0 } }, 1, false },
        { "two fragments with a gap",
          { { 0, 0, 64, true, H, 0 }, { 0, 128, 64, false, H, 0 } },
          2,
          true },
        { "two fragments with a gap in reverse order",
          { { 0, 128, 64, false, H, 0 }, { 0, 0, 64, true, H, 0 } },
          2,
          true },
        { "middle and last only",
          { { 0, 64, 64, true, H, 0 }, { 0, 128, 8, false, H, 0 } },
          2,
          false },
};

static void test_timeouts(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(timeout_rows) / sizeof(timeout_rows[0]); i++) {
                const struct timeout_row *row = &timeout_rows[i];
                struct timeouts t = { 0 };
                struct fx f;
                int64_t t0;
                struct ns_pkt *out;

                fx_init(&f, NULL);
                t0 = f.now;
                assert_int_equal(ns__reasm_next_expiry(f.r), INT64_MAX);
                for (size_t j = 0; j < row->n; j++) {
                        assert_int_equal(add(&f, 0, row->steps[j].off, row->steps[j].len,
                                             row->steps[j].more, &out),
                                         H);
                        f.now += 10 * SEC; /* later fragments do not push the deadline */
                }
                assert_int_equal(ns__reasm_next_expiry(f.r), t0 + TIMEOUT);
                ns__reasm_expire(f.r, t0 + TIMEOUT - 1, on_timeout, &t);
                assert_int_equal(t.calls, 0);
                assert_int_equal(ns__reasm_datagrams_held(f.r), 1);
                ns__reasm_expire(f.r, t0 + TIMEOUT, on_timeout, &t);
                if (t.calls != 1 || t.had_first != row->had_first)
                        fail_msg("%s: calls %u had_first %d", row->name, t.calls, t.had_first);
                if (row->had_first) {
                        uint8_t h[HDR];

                        fill_hdr(h, 0, 0);
                        assert_memory_equal(t.first_hdr, h, HDR);
                }
                assert_int_equal(t.key.id, keys[0].id);
                assert_int_equal(ns__reasm_datagrams_held(f.r), 0);
                assert_int_equal(ns__reasm_bytes_held(f.r), 0);
                assert_int_equal(in_use(f.pool), 0);
                assert_int_equal(f.st.reasm_timeout, 1);
                assert_int_equal(f.st.reasm_fails, 1);
                assert_int_equal(ns__reasm_next_expiry(f.r), INT64_MAX);
                fx_done(&f);
        }
}

/* A fragment for a datagram past its deadline starts a new one. */
static void test_late_fragment_after_deadline(void **state)
{
        struct fx f;
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, NULL);
        assert_int_equal(add(&f, 0, 0, 64, true, &out), H);
        f.now += TIMEOUT;
        assert_int_equal(add(&f, 0, 64, 8, false, &out), H);
        assert_int_equal(f.st.reasm_timeout, 1);
        assert_int_equal(ns__reasm_datagrams_held(f.r), 1);
        assert_int_equal(ns__reasm_next_expiry(f.r), f.now + TIMEOUT);
        ns__reasm_expire(f.r, f.now + TIMEOUT, NULL, NULL);
        assert_int_equal(f.st.reasm_timeout, 2);
        fx_done(&f);
}

/* Expiry is oldest first and stops at the first datagram not yet due. */
static void test_expire_in_order(void **state)
{
        struct fx f;
        struct timeouts t = { 0 };
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, NULL);
        for (unsigned k = 0; k < 3; k++) {
                assert_int_equal(add(&f, k, 8, 8, true, &out), H);
                f.now += SEC;
        }
        ns__reasm_expire(f.r, f.now - 3 * SEC + TIMEOUT + SEC / 2, on_timeout, &t);
        assert_int_equal(t.calls, 1);
        assert_int_equal(t.key.id, keys[0].id);
        assert_int_equal(ns__reasm_datagrams_held(f.r), 2);
        ns__reasm_expire(f.r, INT64_MAX, on_timeout, &t);
        assert_int_equal(t.calls, 3);
        assert_int_equal(t.key.src, keys[2].src);
        fx_done(&f);
}

/* 45: teardown with fragments pending frees everything. */
static void test_teardown_with_pending(void **state)
{
        struct fx f;
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, NULL);
        for (uint32_t id = 0; id < 300; id++) {
                struct ns_reasm_key k = keys[id % 5];

                k.id += id << 4;
                assert_int_equal(ns__reasm_add(f.r, &k, 8 * (id % 7), 8, true, HDR,
                                               mkfrag(&f, 0, 0, 8), f.now, &out),
                                 H);
        }
        assert_int_equal(ns__reasm_datagrams_held(f.r), 300);
        assert_int_equal(in_use(f.pool), 300);
        fx_done(&f);
}

/* ---- allocation failures (45) ---- */

struct failing {
        size_t calls, fail_from, live;
};

static void *failing_alloc(void *ctx, size_t size)
{
        struct failing *a = ctx;

        if (++a->calls >= a->fail_from)
                return NULL;
        a->live++;
        return malloc(size);
}

static void failing_free(void *ctx, void *p)
{
        struct failing *a = ctx;

        if (p)
                a->live--;
        free(p);
}

/* Every allocator failure point: no crash, no leak, the fragment counted. */
static void test_allocator_failures(void **state)
{
        (void)state;
        for (size_t fail_from = 1; fail_from < 8; fail_from++) {
                struct failing fa = { .fail_from = fail_from };
                struct ns_allocator a = { failing_alloc, failing_free, &fa };
                struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, NULL);
                struct ns_ip_stats st = { 0 };
                struct ns_reasm *r = ns__reasm_create(&a, pool, NULL, 7, &st);
                struct fx f = { .pool = pool, .r = r, .now = 0 };

                if (r) {
                        for (uint32_t id = 0; id < 40; id++) {
                                struct ns_reasm_key k = keys[0];
                                struct ns_pkt *out;
                                enum ns_reasm_result res;

                                k.id = id;
                                res = ns__reasm_add(r, &k, 8, 8, true, HDR, mkfrag(&f, 0, 8, 8), 0,
                                                    &out);
                                assert_true(res == H || res == NS_REASM_NO_MEMORY);
                                res = ns__reasm_add(r, &k, 0, 8, true, HDR, mkfrag(&f, 0, 0, 8), 0,
                                                    &out);
                                assert_true(res == H || res == NS_REASM_NO_MEMORY);
                        }
                        ns__reasm_destroy(r);
                }
                assert_int_equal(fa.live, 0);
                assert_int_equal(in_use(pool), 0);
                ns_pkt_pool_destroy(pool);
        }
}

/* The pool refusing the completed datagram abandons it cleanly. */
static void test_pool_refuses_datagram(void **state)
{
        struct ns_pkt_pool_config pc = { .max_in_use = 2 };
        struct ns_pkt_pool *pool = ns_pkt_pool_create(NULL, &pc);
        struct ns_ip_stats st = { 0 };
        struct ns_reasm *r = ns__reasm_create(NULL, pool, NULL, 7, &st);
        struct fx f = { .pool = pool, .r = r };
        struct ns_pkt *out;

        (void)state;
        assert_int_equal(add(&f, 0, 0, 8, true, &out), H);
        assert_int_equal(add(&f, 0, 8, 8, false, &out), NS_REASM_NO_MEMORY);
        assert_null(out);
        assert_int_equal(ns__reasm_datagrams_held(r), 0);
        assert_int_equal(st.reasm_fails, 1);
        fx_done(&f);
}

/* ---- property: random datagrams from shuffled, duplicated fragments ---- */

static void test_property_random_datagrams(void **state)
{
        static uint32_t offs[8200];
        uint64_t seed = 0x9e3779b97f4a7c15ull;
        struct fx f;

        (void)state;
        fx_init(&f, NULL);
        for (unsigned iter = 0; iter < 300; iter++) {
                uint32_t len = 1 + (uint32_t)(rng_next(&seed) % (iter % 10 == 0 ? 65535 : 4000));
                uint32_t unit = 8 * (1 + (uint32_t)(rng_next(&seed) % 185));
                uint32_t n = 0;
                unsigned k = iter % 5;
                struct ns_pkt *out = NULL;

                /* Stay under the default cap of 1024 fragments. */
                while (len / unit >= 1000)
                        unit += 8;
                for (uint32_t off = 0; off < len; off += unit)
                        offs[n++] = off;
                shuffle(offs, n, &seed);
                for (uint32_t i = 0; i < n; i++) {
                        uint32_t off = offs[i];
                        uint32_t flen = len - off < unit ? len - off : unit;
                        bool more = off + flen < len;

                        if (i + 1 < n && rng_next(&seed) % 8 == 0) {
                                /* This fragment twice: the copy is ignored. */
                                assert_int_equal(add(&f, k, off, flen, more, &out), H);
                                assert_int_equal(add(&f, k, off, flen, more, &out), D);
                                continue;
                        }
                        assert_int_equal(add(&f, k, off, flen, more, &out), i + 1 == n ? C : H);
                }
                assert_non_null(out);
                check_datagram(out, k, len);
                ns_pkt_free(out);
                assert_int_equal(ns__reasm_datagrams_held(f.r), 0);
        }
        assert_int_equal(f.st.reasm_fails, 0);
        fx_done(&f);
}

/* 41, 35: many datagrams interleaved across the table all complete. */
static void test_many_interleaved(void **state)
{
        struct fx f;
        struct ns_pkt *out;

        (void)state;
        fx_init(&f, NULL);
        for (uint32_t id = 0; id < 1500; id++) {
                struct ns_reasm_key k = keys[0];

                k.id = id;
                assert_int_equal(
                    ns__reasm_add(f.r, &k, 16, 5, false, HDR, mkfrag(&f, 0, 16, 5), f.now, &out),
                    H);
        }
        for (uint32_t id = 0; id < 1500; id++) {
                struct ns_reasm_key k = keys[0];

                k.id = id;
                assert_int_equal(
                    ns__reasm_add(f.r, &k, 0, 16, true, HDR, mkfrag(&f, 0, 0, 16), f.now, &out), C);
                check_datagram(out, 0, 21);
                ns_pkt_free(out);
        }
        assert_int_equal(ns__reasm_datagrams_held(f.r), 0);
        assert_int_equal(f.st.reasm_oks, 1500);
        fx_done(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rows),
                cmocka_unit_test(test_mf_set_64k_never_completes),
                cmocka_unit_test(test_claimed_length_beyond_packet),
                cmocka_unit_test(test_payload_boundary_without_header),
                cmocka_unit_test(test_oversize_at_completion),
                cmocka_unit_test(test_fragmentsmack_1000_shuffled),
                cmocka_unit_test(test_tree_stays_balanced),
                cmocka_unit_test(test_fragment_cap),
                cmocka_unit_test(test_rose_eviction),
                cmocka_unit_test(test_duplicates_cost_nothing),
                cmocka_unit_test(test_eviction_is_oldest_first),
                cmocka_unit_test(test_fragment_too_big_for_limit),
                cmocka_unit_test(test_timeouts),
                cmocka_unit_test(test_late_fragment_after_deadline),
                cmocka_unit_test(test_expire_in_order),
                cmocka_unit_test(test_teardown_with_pending),
                cmocka_unit_test(test_allocator_failures),
                cmocka_unit_test(test_pool_refuses_datagram),
                cmocka_unit_test(test_property_random_datagrams),
                cmocka_unit_test(test_many_interleaved),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
