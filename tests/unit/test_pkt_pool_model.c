/* ns_pkt_pool against a reference model: random sequences of alloc,
 * from_bytes, clone, make_writable, copy, free and shrink, under several
 * configurations and with the allocator refusing some calls. After every
 * operation the pool's counters must equal the model's, which follows the
 * documented rules one request at a time; the allocator's call and block
 * counts and every live packet's bytes are checked too. */
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

#define MAX_LIVE 200
#define EXACT    3

static const uint64_t class_cap[] = { 2048u, 16384u, 65536u + 256u };

static uint64_t mix(uint64_t x)
{
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ull;
        x ^= x >> 33;
        return x;
}

/* Allocator that refuses call k when mix(seed ^ k) % 100 < fail_pct. */
struct tracker {
        uint64_t seed;
        unsigned fail_pct;
        uint64_t calls;
        uint64_t live;
};

static bool refuses(uint64_t seed, unsigned pct, uint64_t call)
{
        return pct && mix(seed ^ call) % 100 < pct;
}

static void *tracker_alloc(void *ctx, size_t size)
{
        struct tracker *t = ctx;

        t->calls++;
        if (refuses(t->seed, t->fail_pct, t->calls))
                return NULL;
        t->live++;
        return malloc(size);
}

static void tracker_free(void *ctx, void *ptr)
{
        struct tracker *t = ctx;

        if (!ptr)
                return;
        assert_true(t->live > 0);
        t->live--;
        free(ptr);
}

struct mstore {
        uint64_t cap;
        int cls;
        uint32_t refcnt;
        uint8_t tag;
};

struct mpkt {
        struct ns_pkt *p;
        int s;
};

/* The model: counters as documented, cache sizes, allocator calls. */
struct model {
        struct ns_pkt_pool_config cfg;
        uint32_t max_cached;
        uint32_t max_cls[3];
        struct tracker *t;
        bool dead;
        uint64_t allocs, frees, failures, mallocs, calls, blocks;
        uint32_t in_use;
        uint64_t bytes, peak;
        uint32_t cached_pkts;
        uint32_t cached_data[3];
        struct mstore st[MAX_LIVE];
        struct mpkt live[MAX_LIVE];
        int n_live;
        uint8_t next_tag;
        uint64_t rng;
};

static uint64_t rnd(struct model *m)
{
        m->rng = mix(m->rng + 0x9e3779b97f4a7c15ull);
        return m->rng;
}

static bool m_malloc(struct model *m)
{
        m->calls++;
        m->mallocs++;
        if (refuses(m->t->seed, m->t->fail_pct, m->calls))
                return false;
        m->blocks++;
        return true;
}

static bool m_struct_get(struct model *m)
{
        if (m->dead || (m->cfg.max_in_use && m->in_use >= m->cfg.max_in_use))
                return false;
        if (m->cached_pkts)
                m->cached_pkts--;
        else if (!m_malloc(m))
                return false;
        m->in_use++;
        m->allocs++;
        return true;
}

static void m_struct_put(struct model *m)
{
        if (m->dead || m->cached_pkts >= m->max_cached)
                m->blocks--;
        else
                m->cached_pkts++;
}

static int class_of(uint64_t need)
{
        for (int c = 0; c < 3; c++)
                if (need <= class_cap[c])
                        return c;
        return EXACT;
}

/* Returns a new store index with refcnt 1, or -1. */
static int m_data_get(struct model *m, uint64_t need)
{
        int cls = class_of(need);
        uint64_t cap = cls == EXACT ? need : class_cap[cls];

        if (m->dead || cap > UINT32_MAX)
                return -1;
        if (m->cfg.max_bytes && cap > m->cfg.max_bytes - m->bytes)
                return -1;
        if (cls != EXACT && m->cached_data[cls])
                m->cached_data[cls]--;
        else if (!m_malloc(m))
                return -1;
        m->bytes += cap;
        if (m->bytes > m->peak)
                m->peak = m->bytes;
        for (int s = 0; s < MAX_LIVE; s++) {
                if (m->st[s].refcnt == 0) {
                        m->st[s] = (struct mstore){ .cap = cap, .cls = cls, .refcnt = 1 };
                        return s;
                }
        }
        fail_msg("model out of stores");
        return -1;
}

static void m_data_put(struct model *m, int s)
{
        struct mstore *d = &m->st[s];

        if (--d->refcnt)
                return;
        m->bytes -= d->cap;
        if (m->dead || d->cls == EXACT || m->cached_data[d->cls] >= m->max_cls[d->cls])
                m->blocks--;
        else
                m->cached_data[d->cls]++;
}

/* Model of ns_pkt_alloc(); returns the store or -1 (failure counted). */
static int m_alloc(struct model *m, uint64_t need)
{
        int s;

        if (!m_struct_get(m))
                goto fail;
        s = m_data_get(m, need);
        if (s < 0) {
                m->in_use--;
                m->allocs--;
                m_struct_put(m);
                goto fail;
        }
        return s;
fail:
        m->failures++;
        return -1;
}

static void m_free(struct model *m, int s)
{
        m_data_put(m, s);
        m->in_use--;
        m->frees++;
        m_struct_put(m);
}

static void m_shrink(struct model *m)
{
        m->blocks -= m->cached_pkts;
        m->cached_pkts = 0;
        for (int c = 0; c < 3; c++) {
                m->blocks -= m->cached_data[c];
                m->cached_data[c] = 0;
        }
}

static void check_stats(struct model *m, const struct ns_pkt_pool *pool)
{
        struct ns_pkt_pool_stats st;
        uint64_t cached_bytes = 0;
        uint32_t cached = 0;

        ns_pkt_pool_get_stats(pool, &st);
        for (int c = 0; c < 3; c++) {
                cached += m->cached_data[c];
                cached_bytes += m->cached_data[c] * class_cap[c];
        }
        assert_int_equal(st.allocs, m->allocs);
        assert_int_equal(st.frees, m->frees);
        assert_int_equal(st.alloc_failures, m->failures);
        assert_int_equal(st.mallocs, m->mallocs);
        assert_int_equal(st.in_use, m->in_use);
        assert_int_equal(st.cached, cached);
        assert_int_equal(st.bytes_in_use, m->bytes);
        assert_int_equal(st.peak_bytes_in_use, m->peak);
        assert_int_equal(st.cached_pkts, m->cached_pkts);
        assert_int_equal(st.cached_bytes, cached_bytes);
        assert_int_equal(m->t->calls, m->calls);
        assert_int_equal(m->t->live, m->blocks);
}

/* Every byte of live packet i carries its store's tag. */
static void check_pkt(struct model *m, int i)
{
        const struct ns_pkt *p = m->live[i].p;
        const uint8_t *b = ns_pkt_data(p);

        /* All bytes equal the first, which is the tag. */
        if (p->len) {
                assert_int_equal(b[0], m->st[m->live[i].s].tag);
                assert_int_equal(memcmp(b, b + 1, p->len - 1), 0);
        }
        assert_int_equal(ns_pkt_is_shared(p), m->st[m->live[i].s].refcnt > 1);
}

static int cmp_ptr(const void *a, const void *b)
{
        uintptr_t x = (uintptr_t) * (struct ns_pkt *const *)a;
        uintptr_t y = (uintptr_t) * (struct ns_pkt *const *)b;

        return x < y ? -1 : x > y;
}

/* Checks every live packet's bytes, and that no two live packets are the
 * same struct or overlap. */
static void check_live(struct model *m)
{
        struct ns_pkt *sorted[MAX_LIVE];

        for (int i = 0; i < m->n_live; i++) {
                check_pkt(m, i);
                sorted[i] = m->live[i].p;
        }
        qsort(sorted, (size_t)m->n_live, sizeof(sorted[0]), cmp_ptr);
        for (int i = 1; i < m->n_live; i++)
                assert_true((uintptr_t)sorted[i - 1] + sizeof(struct ns_pkt) <=
                            (uintptr_t)sorted[i]);
}

/* A fresh packet must look fresh whatever its struct did before. */
static void check_fresh(struct ns_pkt *p, struct ns_pkt_pool *pool, uint32_t headroom,
                        uint64_t need)
{
        static const uint8_t zero6[6];

        assert_null(p->next);
        assert_ptr_equal(p->pool, pool);
        assert_int_equal(p->off, headroom);
        assert_true(p->cap >= need);
        assert_int_equal(p->link_hdr, NS_PKT_NO_HDR);
        assert_int_equal(p->net_hdr, NS_PKT_NO_HDR);
        assert_int_equal(p->transport_hdr, NS_PKT_NO_HDR);
        assert_int_equal(p->nic_id, 0);
        assert_int_equal(p->flags, 0);
        assert_int_equal(p->mark, 0);
        assert_int_equal(p->net_proto, 0);
        assert_int_equal(p->transport_proto, 0);
        assert_memory_equal(p->link_dst, zero6, 6);
        assert_false(ns_pkt_is_shared(p));
}

/* Scribbles over a packet's metadata, as users do before freeing it. */
static void dirty(struct ns_pkt *p)
{
        p->next = (struct ns_pkt *)p;
        p->link_hdr = p->net_hdr = p->transport_hdr = p->off;
        p->nic_id = 7;
        p->flags = 0x7f;
        p->mark = 0xdead;
        p->net_proto = 0x0800;
        p->transport_proto = 17;
        memset(p->link_dst, 0xee, sizeof(p->link_dst));
}

static void add_live(struct model *m, struct ns_pkt *p, int s)
{
        m->live[m->n_live++] = (struct mpkt){ .p = p, .s = s };
}

static void retag(struct model *m, int i)
{
        struct mpkt *l = &m->live[i];

        m->st[l->s].tag = ++m->next_tag;
        memset(ns_pkt_data(l->p), m->st[l->s].tag, l->p->len);
}

/* Sizes around every class boundary, mostly small. */
static uint64_t pick_need(struct model *m, uint32_t *headroom, uint32_t *size)
{
        static const uint32_t big[] = { 2047, 2048, 2049, 16384, 16385, 65792, 65793, 70000 };
        uint64_t r = rnd(m);

        *headroom = (uint32_t)(r >> 8) % 200;
        switch (r % 16) {
        case 0:
        case 1:
        case 2:
                *size = big[(r >> 20) % 8];
                *size = *size > *headroom ? *size - *headroom : 0;
                break;
        case 3:
                if ((r >> 40) % 8 == 0) {
                        *headroom = UINT32_MAX; /* does not fit in 32 bits */
                        *size = 2;
                        break;
                }
                /* fall through */
        default:
                *size = (uint32_t)(r >> 24) % 1900;
        }
        return (uint64_t)*headroom + *size;
}

static void op_alloc(struct model *m, struct ns_pkt_pool *pool, bool from_bytes)
{
        static uint8_t src[70000];
        uint32_t headroom, size;
        uint64_t need = pick_need(m, &headroom, &size);
        struct ns_pkt *p;
        int s = m_alloc(m, need);

        if (s >= 0)
                m->st[s].tag = ++m->next_tag;
        if (from_bytes) {
                memset(src, s >= 0 ? m->st[s].tag : 0, size);
                p = ns_pkt_from_bytes(pool, headroom, src, size);
        } else {
                p = ns_pkt_alloc(pool, headroom, size);
        }
        if (s < 0) {
                assert_null(p);
                return;
        }
        assert_non_null(p);
        check_fresh(p, pool, headroom, need);
        if (from_bytes) {
                assert_int_equal(p->len, size);
        } else {
                assert_int_equal(p->len, 0);
                uint32_t n = (uint32_t)(rnd(m) % ((uint64_t)size + 1));
                memset(ns_pkt_put(p, n), m->st[s].tag, n);
        }
        add_live(m, p, s);
}

static void op_clone(struct model *m, int i)
{
        struct ns_pkt *src = m->live[i].p;
        struct ns_pkt *c;
        bool ok = m_struct_get(m);

        if (!ok)
                m->failures++;
        c = ns_pkt_clone(src);
        if (!ok) {
                assert_null(c);
                return;
        }
        assert_non_null(c);
        assert_null(c->next);
        assert_ptr_equal(c->head, src->head);
        assert_int_equal(c->off, src->off);
        assert_int_equal(c->len, src->len);
        m->st[m->live[i].s].refcnt++;
        add_live(m, c, m->live[i].s);
}

static void op_make_writable(struct model *m, int i)
{
        struct mpkt *l = &m->live[i];
        int rc;

        if (m->st[l->s].refcnt == 1) {
                assert_int_equal(ns_pkt_make_writable(l->p), 0);
                retag(m, i);
                return;
        }
        uint8_t tag = m->st[l->s].tag;
        int s = m_data_get(m, l->p->cap);

        if (s < 0)
                m->failures++;
        rc = ns_pkt_make_writable(l->p);
        if (s < 0) {
                assert_int_equal(rc, NS_ERR_NO_BUFFER_SPACE);
                return;
        }
        assert_int_equal(rc, 0);
        m->st[s].tag = tag;
        m_data_put(m, l->s);
        l->s = s;
        check_pkt(m, i); /* the copy holds the old bytes */
        retag(m, i);
}

static void op_copy(struct model *m, struct ns_pkt_pool *pool, int i)
{
        struct ns_pkt *src = m->live[i].p;
        uint32_t headroom = (uint32_t)(rnd(m) % 300);
        int s = m_alloc(m, (uint64_t)headroom + src->len);
        struct ns_pkt *c = ns_pkt_copy(pool, src, headroom);

        if (s < 0) {
                assert_null(c);
                return;
        }
        assert_non_null(c);
        assert_int_equal(c->len, src->len);
        m->st[s].tag = m->st[m->live[i].s].tag;
        add_live(m, c, s);
}

static void op_free(struct model *m, int i)
{
        struct mpkt l = m->live[i];

        m->live[i] = m->live[--m->n_live];
        dirty(l.p);
        ns_pkt_free(l.p);
        m_free(m, l.s);
}

static void model_init(struct model *m, struct tracker *t, const struct ns_pkt_pool_config *cfg,
                       uint64_t seed)
{
        static const uint32_t def_cls[] = { 1024, 256, 32 };

        memset(m, 0, sizeof(*m));
        m->t = t;
        m->cfg = *cfg;
        m->rng = seed;
        m->max_cached = cfg->max_cached ? cfg->max_cached : 1024;
        for (int c = 0; c < 3; c++)
                m->max_cls[c] = cfg->max_cached ? cfg->max_cached : def_cls[c];
        m->calls = 1; /* the pool */
        m->mallocs = 1;
        m->blocks = 1;
}

/* One random step; pct_free biases towards emptying the pool. */
static void step(struct model *m, struct ns_pkt_pool *pool, unsigned pct_free)
{
        uint64_t r = rnd(m) % 100;
        int i = m->n_live ? (int)(rnd(m) % (uint64_t)m->n_live) : -1;

        if (rnd(m) % 500 == 0) {
                ns_pkt_pool_shrink(pool);
                m_shrink(m);
        } else if (m->n_live >= MAX_LIVE - 1 || (i >= 0 && r < pct_free)) {
                op_free(m, i);
        } else if (i < 0 || r < pct_free + 40) {
                op_alloc(m, pool, r & 1);
        } else if (r < pct_free + 55) {
                op_clone(m, i);
        } else if (r < pct_free + 70) {
                op_make_writable(m, i);
        } else {
                op_copy(m, pool, i);
        }
}

static void run(const struct ns_pkt_pool_config *cfg, unsigned fail_pct, uint64_t seed, int steps)
{
        struct tracker t = { .seed = seed, .fail_pct = fail_pct };
        struct ns_allocator a = { .alloc = tracker_alloc, .free = tracker_free, .ctx = &t };
        struct model *m = calloc(1, sizeof(*m));
        struct ns_pkt_pool *pool;

        assert_non_null(m);
        model_init(m, &t, cfg, seed);
        if (refuses(seed, fail_pct, 1)) {
                assert_null(ns_pkt_pool_create(&a, cfg));
                free(m);
                return;
        }
        pool = ns_pkt_pool_create(&a, cfg);
        assert_non_null(pool);
        for (int k = 0; k < steps; k++) {
                /* Phases that fill and drain the pool. */
                step(m, pool, (k / 300) % 2 ? 55 : 20);
                check_stats(m, pool);
                if (k % 16 == 0)
                        check_live(m);
        }
        check_live(m);
        while (m->n_live)
                op_free(m, 0);
        check_stats(m, pool);
        ns_pkt_pool_destroy(pool);
        assert_int_equal(t.live, 0);
        free(m);
}

static const struct ns_pkt_pool_config configs[] = {
        { 0 },
        { .max_cached = 1 },
        { .max_cached = 2 },
        { .max_cached = 3 },
        { .max_cached = 5, .max_in_use = 8 },
        { .max_cached = 40 },
        { .max_in_use = 5 },
        { .max_in_use = 60, .max_cached = 8 },
        { .max_bytes = 10 * 2048 },
        { .max_bytes = 70000 },
        { .max_bytes = 300000, .max_in_use = 30, .max_cached = 20 },
};

static void test_model_without_refusals(void **state)
{
        (void)state;
        for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++)
                for (uint64_t seed = 1; seed <= 3; seed++)
                        run(&configs[c], 0, seed * 1000 + c, 3000);
}

static void test_model_with_refusals(void **state)
{
        (void)state;
        for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++)
                for (uint64_t seed = 1; seed <= 3; seed++)
                        run(&configs[c], 5, seed * 7919 + c, 2000);
}

/* Destroy with live packets, then keep using them: nothing new is handed
 * out, everything freed goes back to the allocator, and the last free takes
 * the pool with it. */
static void test_model_dead_pool(void **state)
{
        (void)state;
        for (uint64_t seed = 1; seed <= 20; seed++) {
                struct tracker t = { .seed = seed };
                struct ns_allocator a = { .alloc = tracker_alloc, .free = tracker_free, .ctx = &t };
                struct ns_pkt_pool_config cfg = { .max_cached = (uint32_t)(seed % 4) * 10 };
                struct model *m = calloc(1, sizeof(*m));
                struct ns_pkt_pool *pool;

                assert_non_null(m);
                model_init(m, &t, &cfg, seed);
                pool = ns_pkt_pool_create(&a, &cfg);
                assert_non_null(pool);
                for (int k = 0; k < 200; k++)
                        step(m, pool, 30);
                check_stats(m, pool);
                if (m->n_live == 0)
                        op_alloc(m, pool, false);
                if (m->n_live == 0) {
                        ns_pkt_pool_destroy(pool);
                        assert_int_equal(t.live, 0);
                        free(m);
                        continue;
                }
                ns_pkt_pool_destroy(pool);
                m_shrink(m);
                m->dead = true;
                assert_int_equal(t.live, m->blocks);
                while (m->n_live) {
                        int i = (int)(rnd(m) % (uint64_t)m->n_live);
                        uint64_t r = rnd(m) % 4;

                        if (r == 0) {
                                op_clone(m, i);
                        } else if (r == 1) {
                                op_make_writable(m, i);
                        } else if (r == 2) {
                                op_copy(m, pool, i);
                        } else {
                                op_free(m, i);
                                /* The last free releases the pool block too. */
                                if (m->n_live == 0)
                                        m->blocks--;
                        }
                        assert_int_equal(t.live, m->blocks);
                        assert_int_equal(t.calls, m->calls);
                }
                assert_int_equal(t.live, 0);
                free(m);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_model_without_refusals),
                cmocka_unit_test(test_model_with_refusals),
                cmocka_unit_test(test_model_dead_pool),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
