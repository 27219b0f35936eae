/*
 * Fragment reassembly (see reasm.h for the rules and their sources).
 *
 * Layout: a hash table of datagrams keyed by (src, dst, id, proto) under a
 * secret; every datagram is also on an age list, oldest first, which is at
 * once the eviction order and the deadline order (every deadline is its
 * creation time plus one fixed timeout). A datagram holds its fragments in
 * nodes that live outside packet memory: an AVL tree by payload offset for
 * the overlap checks, plus a plain list in arrival order for teardown and
 * for the final copy, which needs no order since every fragment is copied
 * straight to its offset. Held fragments never overlap, so a new one needs
 * comparing only with its predecessor and successor, and the datagram is
 * complete exactly when the final end is known and the payload bytes held
 * add up to it.
 *
 * Nodes and datagram records come from free lists refilled a chunk at a
 * time, so once warm the only per-fragment cost beyond the packet itself is
 * O(log n) pointer work.
 */
#include "ipv4/reasm.h"

#include <stddef.h>
#include <string.h>

#include "wire/hash.h"

/* One held fragment. */
struct node {
        struct node *left, *right; /* AVL tree by off */
        struct node *next;         /* arrival-order list of the datagram */
        struct ns_pkt *pkt;        /* data starts at the network header */
        uint32_t off;              /* payload offset in the datagram, bytes */
        uint32_t len;              /* payload bytes */
        uint32_t hdr;              /* payload starts hdr bytes into pkt's data */
        uint32_t cost;             /* bytes accounted for this fragment */
        int8_t height;             /* AVL subtree height, leaf = 1 */
        bool final;                /* arrived with MF clear */
};

/* One datagram being reassembled. */
struct dgram {
        struct ns_reasm_key key;
        struct dgram *hnext, **hprev; /* hash chain */
        struct dgram *newer, *older;  /* age list */
        struct node *root;            /* AVL tree of fragments */
        struct node *nodes;           /* fragments, newest first */
        struct node *first;           /* the offset-0 fragment, once held */
        int64_t deadline_ns;
        uint64_t bytes;    /* accounted: fragments plus this record */
        uint32_t received; /* payload bytes held (fragments are disjoint) */
        uint32_t end;      /* payload length, valid once final_seen */
        uint32_t max_end;  /* highest offset + length held */
        uint32_t count;    /* fragments held */
        bool final_seen;
};

/* A free list of fixed-size records, refilled a chunk at a time. */
struct slab {
        void *free;   /* records linked through their first pointer */
        void *chunks; /* chunks linked through their first pointer */
        size_t elem;  /* record size, a multiple of the pointer size */
        size_t per_chunk;
};

#define CHUNK_HDR 16u /* keeps records as aligned as the allocator's blocks */

struct ns_reasm {
        struct ns_allocator alloc;
        struct ns_pkt_pool *pool;
        struct ns_ip_stats *stats;
        struct ns_ip_stats dummy_stats; /* bumped when the caller passed none */
        struct ns_reasm_config cfg;
        uint64_t secret;
        struct dgram **buckets;
        uint32_t bucket_mask;
        uint32_t held; /* datagrams */
        uint64_t bytes;
        struct dgram *oldest, *newest;
        struct slab nodes, dgrams;
};

/* Bytes charged for a datagram record (Linux charges sizeof(struct ipq)). */
#define DGRAM_COST ((uint32_t)sizeof(struct dgram))

/* ---- free lists ---- */

static void slab_init(struct slab *s, size_t elem, size_t per_chunk)
{
        s->free = NULL;
        s->chunks = NULL;
        s->elem = (elem + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
        s->per_chunk = per_chunk;
}

static void *slab_get(struct ns_reasm *r, struct slab *s)
{
        void *p;

        if (!s->free) {
                uint8_t *chunk = ns_alloc(&r->alloc, CHUNK_HDR + s->elem * s->per_chunk);

                if (!chunk)
                        return NULL;
                memcpy(chunk, &s->chunks, sizeof(void *));
                s->chunks = chunk;
                for (size_t i = s->per_chunk; i-- > 0;) {
                        uint8_t *rec = chunk + CHUNK_HDR + i * s->elem;

                        memcpy(rec, &s->free, sizeof(void *));
                        s->free = rec;
                }
        }
        p = s->free;
        memcpy(&s->free, p, sizeof(void *));
        return p;
}

static void slab_put(struct slab *s, void *p)
{
        memcpy(p, &s->free, sizeof(void *));
        s->free = p;
}

static void slab_destroy(struct ns_reasm *r, struct slab *s)
{
        void *c = s->chunks;

        while (c) {
                void *next;

                memcpy(&next, c, sizeof(void *));
                ns_free(&r->alloc, c);
                c = next;
        }
        s->chunks = NULL;
        s->free = NULL;
}

/* ---- AVL tree of fragments by offset (insertion only) ---- */

static int height(const struct node *n)
{
        return n ? n->height : 0;
}

static void fix_height(struct node *n)
{
        int l = height(n->left), rh = height(n->right);

        n->height = (int8_t)(1 + (l > rh ? l : rh));
}

static struct node *rotate_right(struct node *y)
{
        struct node *x = y->left;

        y->left = x->right;
        x->right = y;
        fix_height(y);
        fix_height(x);
        return x;
}

static struct node *rotate_left(struct node *x)
{
        struct node *y = x->right;

        x->right = y->left;
        y->left = x;
        fix_height(x);
        fix_height(y);
        return y;
}

static struct node *rebalance(struct node *n)
{
        int bf;

        fix_height(n);
        bf = height(n->left) - height(n->right);
        if (bf > 1) {
                if (height(n->left->left) < height(n->left->right))
                        n->left = rotate_left(n->left);
                return rotate_right(n);
        }
        if (bf < -1) {
                if (height(n->right->right) < height(n->right->left))
                        n->right = rotate_right(n->right);
                return rotate_left(n);
        }
        return n;
}

/*
 * Deepest path a descent records: an AVL tree of height h holds at least
 * F(h+2) - 1 nodes (Fibonacci), so height 48 needs more than 2^32 nodes.
 */
#define AVL_MAX_DEPTH 48

/* Where a new offset goes: the empty link it hangs from and the links
 * followed to reach it, root first. */
struct avl_spot {
        struct node **at;
        struct node **path[AVL_MAX_DEPTH];
        unsigned depth;
};

/*
 * Hangs n (a leaf: no children, height 1) at the spot found by classify()
 * and rebalances without recursion. Walking back up, the first ancestor
 * whose height does not change ends the work: after an insertion a
 * rotation restores the subtree's old height, so nothing above it moves.
 * Most insertions touch only the bottom two or three levels.
 */
static void avl_insert_at(struct avl_spot *spot, struct node *n)
{
        unsigned depth = spot->depth;

        *spot->at = n;
        while (depth > 0) {
                struct node **at = spot->path[--depth];
                int8_t old = (*at)->height;

                *at = rebalance(*at);
                if ((*at)->height == old)
                        break;
        }
}

/* ---- table ---- */

static uint32_t key_hash(const struct ns_reasm *r, const struct ns_reasm_key *k)
{
        /* One keyed round over every field, as Linux ipqhashfn: the ID and
         * protocol share a word (losslessly for IPv4's 16-bit IDs); key_eq()
         * settles collisions and the secret keeps them unpredictable. */
        return ns_hash3_words(k->src, k->dst ^ (uint32_t)(r->secret >> 32),
                              k->id ^ ((uint32_t)k->proto << 24), (uint32_t)r->secret);
}

static bool key_eq(const struct ns_reasm_key *a, const struct ns_reasm_key *b)
{
        return a->src == b->src && a->dst == b->dst && a->id == b->id && a->proto == b->proto;
}

/* Unlinks dg, frees its fragments and recycles every record. */
static void dgram_release(struct ns_reasm *r, struct dgram *dg)
{
        struct node *n = dg->nodes;

        while (n) {
                struct node *next = n->next;

                ns_pkt_free(n->pkt);
                slab_put(&r->nodes, n);
                n = next;
        }
        if (dg->hnext)
                dg->hnext->hprev = dg->hprev;
        *dg->hprev = dg->hnext;
        if (dg->older)
                dg->older->newer = dg->newer;
        else
                r->oldest = dg->newer;
        if (dg->newer)
                dg->newer->older = dg->older;
        else
                r->newest = dg->older;
        r->bytes -= dg->bytes;
        r->held--;
        slab_put(&r->dgrams, dg);
}

/* Drops dg as a failed reassembly (RFC 4293 ipSystemStatsReasmFails). */
static void dgram_abandon(struct ns_reasm *r, struct dgram *dg)
{
        r->stats->reasm_fails++;
        dgram_release(r, dg);
}

static struct dgram *dgram_new(struct ns_reasm *r, const struct ns_reasm_key *key, uint32_t hash,
                               int64_t now_ns)
{
        struct dgram *dg = slab_get(r, &r->dgrams);
        struct dgram **head = &r->buckets[hash & r->bucket_mask];

        if (!dg)
                return NULL;
        memset(dg, 0, sizeof(*dg));
        dg->key = *key;
        /* Saturate rather than overflow for a clock near INT64_MAX. */
        dg->deadline_ns =
            now_ns > INT64_MAX - r->cfg.timeout_ns ? INT64_MAX : now_ns + r->cfg.timeout_ns;
        dg->bytes = DGRAM_COST;
        dg->hnext = *head;
        if (*head)
                (*head)->hprev = &dg->hnext;
        dg->hprev = head;
        *head = dg;
        dg->older = r->newest;
        if (r->newest)
                r->newest->newer = dg;
        else
                r->oldest = dg;
        r->newest = dg;
        r->bytes += DGRAM_COST;
        r->held++;
        return dg;
}

static struct dgram *dgram_find(const struct ns_reasm *r, const struct ns_reasm_key *key,
                                uint32_t hash)
{
        struct dgram *dg = r->buckets[hash & r->bucket_mask];

        while (dg && !key_eq(&dg->key, key))
                dg = dg->hnext;
        return dg;
}

/* ---- public ---- */

const char *ns__reasm_result_name(enum ns_reasm_result res)
{
        switch (res) {
        case NS_REASM_HELD:
                return "held";
        case NS_REASM_COMPLETE:
                return "complete";
        case NS_REASM_DUPLICATE:
                return "duplicate";
        case NS_REASM_MALFORMED:
                return "malformed";
        case NS_REASM_OVERLAP:
                return "overlap";
        case NS_REASM_CONFLICT:
                return "conflict";
        case NS_REASM_TOO_MANY:
                return "too_many";
        case NS_REASM_NO_MEMORY:
                return "no_memory";
        }
        return "unknown";
}

struct ns_reasm *ns__reasm_create(const struct ns_allocator *a, struct ns_pkt_pool *pool,
                                  const struct ns_reasm_config *cfg, uint64_t hash_secret,
                                  struct ns_ip_stats *stats)
{
        struct ns_allocator al = a ? *a : (struct ns_allocator){ 0 };
        struct ns_reasm *r = ns_zalloc(&al, sizeof(*r));
        uint64_t nb;

        if (!r)
                return NULL;
        r->alloc = al;
        r->pool = pool;
        r->stats = stats ? stats : &r->dummy_stats;
        r->secret = hash_secret;
        if (cfg)
                r->cfg = *cfg;
        if (!r->cfg.high_bytes)
                r->cfg.high_bytes = NS_REASM_DEFAULT_HIGH_BYTES;
        if (!r->cfg.low_bytes)
                r->cfg.low_bytes = NS_REASM_DEFAULT_LOW_BYTES;
        if (r->cfg.low_bytes > r->cfg.high_bytes)
                r->cfg.low_bytes = r->cfg.high_bytes;
        if (r->cfg.timeout_ns <= 0)
                r->cfg.timeout_ns = NS_REASM_DEFAULT_TIMEOUT_NS;
        if (!r->cfg.max_frags)
                r->cfg.max_frags = NS_REASM_DEFAULT_MAX_FRAGS;
        if (!r->cfg.max_datagram)
                r->cfg.max_datagram = NS_REASM_DEFAULT_MAX_DATAGRAM;

        /* About one bucket per two-fragment datagram the byte limit admits
         * (a fragment costs at least one 2 KiB buffer), 64..16384. */
        nb = 64;
        while (nb < 16384 && nb * 4096 < r->cfg.high_bytes)
                nb <<= 1;
        r->buckets = ns_zalloc(&r->alloc, (size_t)nb * sizeof(*r->buckets));
        if (!r->buckets) {
                ns_free(&r->alloc, r);
                return NULL;
        }
        r->bucket_mask = (uint32_t)nb - 1;
        slab_init(&r->nodes, sizeof(struct node), 64);
        slab_init(&r->dgrams, sizeof(struct dgram), 16);
        return r;
}

void ns__reasm_destroy(struct ns_reasm *r)
{
        if (!r)
                return;
        while (r->oldest)
                dgram_release(r, r->oldest);
        slab_destroy(r, &r->nodes);
        slab_destroy(r, &r->dgrams);
        ns_free(&r->alloc, r->buckets);
        ns_free(&r->alloc, r);
}

int64_t ns__reasm_next_expiry(const struct ns_reasm *r)
{
        return r->oldest ? r->oldest->deadline_ns : INT64_MAX;
}

uint64_t ns__reasm_bytes_held(const struct ns_reasm *r)
{
        return r->bytes;
}

uint32_t ns__reasm_datagrams_held(const struct ns_reasm *r)
{
        return r->held;
}

/* Height of the subtree at n when it is a valid AVL tree within (lo, hi)
 * by offset, counting its nodes into *count; -1 when it is not. */
static int check_subtree(const struct node *n, int64_t lo, int64_t hi, uint32_t *count)
{
        if (!n)
                return 0;
        if ((int64_t)n->off <= lo || (int64_t)n->off >= hi)
                return -1;
        int l = check_subtree(n->left, lo, n->off, count);
        int rh = check_subtree(n->right, n->off, hi, count);
        if (l < 0 || rh < 0 || l - rh > 1 || rh - l > 1)
                return -1;
        int h = 1 + (l > rh ? l : rh);
        if (n->height != h)
                return -1;
        (*count)++;
        return h;
}

bool ns__reasm_trees_valid(const struct ns_reasm *r, uint32_t *max_height)
{
        uint32_t max = 0;
        for (const struct dgram *dg = r->oldest; dg; dg = dg->newer) {
                uint32_t count = 0;
                int h = check_subtree(dg->root, -1, INT64_MAX, &count);
                if (h < 0 || count != dg->count)
                        return false;
                if ((uint32_t)h > max)
                        max = (uint32_t)h;
        }
        if (max_height)
                *max_height = max;
        return true;
}

void ns__reasm_expire(struct ns_reasm *r, int64_t now_ns,
                      void (*on_timeout)(void *ctx, const struct ns_reasm_key *key,
                                         const struct ns_pkt *first),
                      void *ctx)
{
        struct dgram *dg;

        while ((dg = r->oldest) && dg->deadline_ns <= now_ns) {
                if (on_timeout)
                        on_timeout(ctx, &dg->key, dg->first ? dg->first->pkt : NULL);
                r->stats->reasm_timeout++;
                dgram_abandon(r, dg);
        }
}

/* Checks the fragment on its own (HOSTILE-INPUTS 29-33). */
static bool fragment_ok(const struct ns_reasm *r, uint32_t offset, uint32_t payload_len, bool more,
                        uint32_t hdr_len, const struct ns_pkt *pkt)
{
        if (hdr_len > pkt->len || payload_len > pkt->len - hdr_len)
                return false; /* claims bytes it does not carry */
        if (payload_len == 0)
                return false; /* gVisor: "fragment without payload" rows */
        if (offset % 8 != 0 || (more && payload_len % 8 != 0))
                return false; /* RFC 791 3.1: offsets count 8-byte blocks */
        if (offset > NS_REASM_MAX_PAYLOAD || payload_len > NS_REASM_MAX_PAYLOAD - offset)
                return false;
        /* All three are at most 65535 here: no overflow in 64 bits. */
        return (uint64_t)hdr_len + offset + payload_len <= r->cfg.max_datagram;
}

/*
 * Decides what a fragment does to a held datagram: NS_REASM_HELD (it fits
 * a hole and may be inserted at *spot), _DUPLICATE, _OVERLAP or _CONFLICT.
 * Held fragments are disjoint, so only the neighbours by offset can overlap.
 */
static enum ns_reasm_result classify(struct dgram *dg, uint32_t off, uint32_t len, bool more,
                                     struct avl_spot *spot)
{
        uint32_t end = off + len;
        const struct node *pred = NULL, *succ = NULL;
        struct node **link = &dg->root;
        unsigned depth = 0;

        if (!more) {
                /* A second final must agree; held data must not pass it. */
                if (dg->final_seen ? end != dg->end : dg->max_end > end)
                        return NS_REASM_CONFLICT;
        } else if (dg->final_seen && end > dg->end) {
                return NS_REASM_CONFLICT; /* at or past the end */
        }
        /* One descent both finds the neighbours and records where the
         * fragment goes, for avl_insert_at(). */
        while (*link) {
                struct node *n = *link;

                spot->path[depth++] = link;
                if (off < n->off) {
                        succ = n;
                        link = &n->left;
                } else if (off > n->off) {
                        pred = n;
                        link = &n->right;
                } else {
                        if (n->len != len)
                                return NS_REASM_OVERLAP;
                        /* Same bytes, but one says final and the other not. */
                        if (n->final != !more)
                                return NS_REASM_CONFLICT;
                        return NS_REASM_DUPLICATE;
                }
        }
        spot->at = link;
        spot->depth = depth;
        if (pred && pred->off + pred->len > off)
                return NS_REASM_OVERLAP;
        if (succ && end > succ->off)
                return NS_REASM_OVERLAP;
        return NS_REASM_HELD;
}

/*
 * Makes room for `need` more bytes: when they would take the total above
 * high_bytes, evicts the oldest datagrams other than keep until the total
 * plus need is at most low_bytes. Returns whether the total plus need is
 * then within high_bytes.
 */
static bool make_room(struct ns_reasm *r, const struct dgram *keep, uint64_t need)
{
        struct dgram *dg = r->oldest;

        if (r->bytes + need <= r->cfg.high_bytes)
                return true;
        while (dg && r->bytes + need > r->cfg.low_bytes) {
                struct dgram *next = dg->newer;

                if (dg != keep)
                        dgram_abandon(r, dg);
                dg = next;
        }
        return r->bytes + need <= r->cfg.high_bytes;
}

/*
 * Builds the completed datagram: the offset-0 fragment's header, then every
 * payload byte copied once to its offset. Returns NULL when the pool
 * refuses.
 */
static struct ns_pkt *assemble(struct ns_reasm *r, const struct dgram *dg)
{
        const struct node *first = dg->first;
        const struct ns_pkt *fp = first->pkt;
        struct ns_pkt *out = ns_pkt_alloc(r->pool, NS_REASM_HEADROOM, first->hdr + dg->end);
        uint8_t *dst;

        if (!out)
                return NULL;
        dst = ns_pkt_put(out, first->hdr + dg->end);
        if (!dst) {
                ns_pkt_free(out);
                return NULL;
        }
        ns_pkt_set_network_header(out);
        memcpy(dst, ns_pkt_data(fp), first->hdr);
        dst += first->hdr;
        for (const struct node *n = dg->nodes; n; n = n->next)
                memcpy(dst + n->off, ns_pkt_data(n->pkt) + n->hdr, n->len);
        out->nic_id = fp->nic_id;
        out->flags = fp->flags;
        out->mark = fp->mark;
        out->net_proto = fp->net_proto;
        return out;
}

/* Inserts the fragment in node n into dg at spot (see classify()). */
static void dgram_insert(struct ns_reasm *r, struct dgram *dg, struct node *n,
                         struct avl_spot *spot)
{
        uint32_t end = n->off + n->len;

        avl_insert_at(spot, n);
        n->next = dg->nodes;
        dg->nodes = n;
        dg->count++;
        dg->received += n->len;
        dg->bytes += n->cost;
        r->bytes += n->cost;
        if (end > dg->max_end)
                dg->max_end = end;
        if (n->final) {
                dg->final_seen = true;
                dg->end = end;
        }
        if (n->off == 0)
                dg->first = n;
}

/* Returns the bytes a held fragment costs: its storage, its packet struct
 * and its node (Linux charges skb->truesize). */
static uint32_t fragment_cost(const struct ns_pkt *pkt)
{
        return pkt->cap + (uint32_t)(sizeof(struct ns_pkt) + sizeof(struct node));
}

static enum ns_reasm_result fail(struct ns_reasm *r, struct dgram *dg, struct ns_pkt *pkt,
                                 enum ns_reasm_result res)
{
        if (res == NS_REASM_OVERLAP)
                r->stats->reasm_overlaps++;
        if (dg)
                dgram_abandon(r, dg);
        else
                r->stats->reasm_fails++;
        ns_pkt_free(pkt);
        return res;
}

enum ns_reasm_result ns__reasm_add(struct ns_reasm *r, const struct ns_reasm_key *key,
                                   uint32_t offset, uint32_t payload_len, bool more,
                                   uint32_t hdr_len, struct ns_pkt *pkt, int64_t now_ns,
                                   struct ns_pkt **out)
{
        uint32_t hash = key_hash(r, key);
        struct dgram *dg;
        struct node *n;
        enum ns_reasm_result res;
        struct avl_spot spot;

        *out = NULL;
        r->stats->reasm_reqds++;
        if (!pkt)
                return NS_REASM_MALFORMED;
        if (!fragment_ok(r, offset, payload_len, more, hdr_len, pkt)) {
                ns_pkt_free(pkt);
                return NS_REASM_MALFORMED;
        }
        dg = dgram_find(r, key, hash);
        if (dg && dg->deadline_ns <= now_ns) {
                /* Its timer is due but has not run: it is dead all the same. */
                r->stats->reasm_timeout++;
                dgram_abandon(r, dg);
                dg = NULL;
        }
        if (!dg && offset == 0 && !more) {
                r->stats->reasm_oks++;
                ns_pkt_set_network_header(pkt);
                *out = pkt;
                return NS_REASM_COMPLETE;
        }
        if (dg) {
                res = classify(dg, offset, payload_len, more, &spot);
                if (res == NS_REASM_DUPLICATE) {
                        ns_pkt_free(pkt);
                        return res;
                }
                if (res != NS_REASM_HELD)
                        return fail(r, dg, pkt, res);
                if (dg->count >= r->cfg.max_frags)
                        return fail(r, dg, pkt, NS_REASM_TOO_MANY);
        }
        if (!make_room(r, dg, fragment_cost(pkt) + (dg ? 0u : DGRAM_COST)))
                return fail(r, dg, pkt, NS_REASM_NO_MEMORY);
        n = slab_get(r, &r->nodes);
        if (!n)
                return fail(r, dg, pkt, NS_REASM_NO_MEMORY);
        if (!dg) {
                dg = dgram_new(r, key, hash, now_ns);
                if (!dg) {
                        slab_put(&r->nodes, n);
                        return fail(r, NULL, pkt, NS_REASM_NO_MEMORY);
                }
                spot.at = &dg->root; /* the first fragment is the whole tree */
                spot.depth = 0;
        }
        *n = (struct node){ .pkt = pkt,
                            .off = offset,
                            .len = payload_len,
                            .hdr = hdr_len,
                            .cost = fragment_cost(pkt),
                            .height = 1,
                            .final = !more };
        dgram_insert(r, dg, n, &spot);
        if (!dg->final_seen || dg->received != dg->end)
                return NS_REASM_HELD;
        /* The first fragment's header may be longer than the one the final
         * fragment was checked with. */
        if ((uint64_t)dg->first->hdr + dg->end > r->cfg.max_datagram)
                return fail(r, dg, NULL, NS_REASM_CONFLICT);
        *out = assemble(r, dg);
        if (!*out)
                return fail(r, dg, NULL, NS_REASM_NO_MEMORY);
        r->stats->reasm_oks++;
        dgram_release(r, dg);
        return NS_REASM_COMPLETE;
}
