/* The routing table (core/route_table.h). */
#include <string.h>

#include <netstack/err.h>

#include "core/route_table.h"

/* Group of a prefix length: /32 is group 0, /0 is group 32. */
static uint32_t group_of(uint8_t prefix_len)
{
        return 32u - prefix_len;
}

/* Table order: longer prefix, then lower destination, then lower metric,
 * then older. Returns whether a sorts before b. */
static bool slot_before(const struct ns_route_slot *a, const struct ns_route_slot *b)
{
        if (a->route.dst.prefix_len != b->route.dst.prefix_len)
                return a->route.dst.prefix_len > b->route.dst.prefix_len;
        if (a->route.dst.addr != b->route.dst.addr)
                return a->route.dst.addr < b->route.dst.addr;
        if (a->route.metric != b->route.metric)
                return a->route.metric < b->route.metric;
        return a->seq < b->seq;
}

/* Every change to the table goes through here: the cached lookup goes too. */
static void recompute_starts(struct ns_route_table *t)
{
        uint32_t per_group[33] = { 0 };
        t->cache_valid = false;
        t->gen++;
        for (uint32_t i = 0; i < t->count; i++)
                per_group[group_of(t->slots[i].route.dst.prefix_len)]++;
        t->start[0] = 0;
        t->groups = 0;
        for (uint32_t g = 0; g < 33; g++) {
                t->start[g + 1] = t->start[g] + per_group[g];
                if (per_group[g])
                        t->groups |= (uint64_t)1 << g;
        }
}

/* Index of the lowest set bit of a non-zero mask. */
static uint32_t lowest_bit(uint64_t m)
{
#if defined(__GNUC__) || defined(__clang__)
        return (uint32_t)__builtin_ctzll(m);
#else
        uint32_t g = 0;
        while (!(m & 1)) {
                m >>= 1;
                g++;
        }
        return g;
#endif
}

/* First slot in [lo, hi) whose destination is >= addr; all slots in the
 * range share one prefix length and are sorted by destination. */
static uint32_t lower_bound(const struct ns_route_table *t, uint32_t lo, uint32_t hi, ns_ip4 addr)
{
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (t->slots[mid].route.dst.addr < addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* First slot of the run of routes to exactly dst (masked), and its end. */
static uint32_t run_of(const struct ns_route_table *t, struct ns_ip4_prefix dst, uint32_t *end)
{
        uint32_t g = group_of(dst.prefix_len);
        uint32_t i = lower_bound(t, t->start[g], t->start[g + 1], dst.addr);
        uint32_t j = i;
        while (j < t->start[g + 1] && t->slots[j].route.dst.addr == dst.addr)
                j++;
        *end = j;
        return i;
}

void ns__route_table_init(struct ns_route_table *t, const struct ns_allocator *a)
{
        memset(t, 0, sizeof(*t));
        if (a)
                t->alloc = *a;
}

void ns__route_table_destroy(struct ns_route_table *t)
{
        ns_free(&t->alloc, t->slots);
        t->slots = NULL;
        t->count = 0;
        t->cap = 0;
        recompute_starts(t);
}

static bool grow(struct ns_route_table *t)
{
        uint32_t cap = t->cap ? t->cap * 2 : 8;
        if (cap <= t->cap || cap > UINT32_MAX / 2)
                return false;
        struct ns_route_slot *slots = ns_alloc(&t->alloc, (size_t)cap * sizeof(*slots));
        if (!slots)
                return false;
        if (t->count)
                memcpy(slots, t->slots, (size_t)t->count * sizeof(*slots));
        ns_free(&t->alloc, t->slots);
        t->slots = slots;
        t->cap = cap;
        return true;
}

int ns__route_add(struct ns_route_table *t, const struct ns_route *r)
{
        if (r->dst.prefix_len > 32 || r->nic_id == 0)
                return NS_ERR_INVALID_ARGUMENT;

        struct ns_route_slot s = { .route = *r, .seq = t->next_seq };
        s.route.dst.addr &= ns_ip4_mask(r->dst.prefix_len);

        uint32_t end;
        for (uint32_t i = run_of(t, s.route.dst, &end); i < end; i++) {
                const struct ns_route *o = &t->slots[i].route;
                if (o->gateway == s.route.gateway && o->nic_id == s.route.nic_id)
                        return NS_ERR_ALREADY_EXISTS;
        }
        if (t->count == t->cap && !grow(t))
                return NS_ERR_NO_MEMORY;

        /* Upper bound of s in table order: after everything that sorts
         * before it (it is the newest, so after its equals too). */
        uint32_t lo = 0, hi = t->count;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (slot_before(&t->slots[mid], &s))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        memmove(&t->slots[lo + 1], &t->slots[lo], (size_t)(t->count - lo) * sizeof(s));
        t->slots[lo] = s;
        t->count++;
        t->next_seq++;
        recompute_starts(t);
        return 0;
}

static void remove_slot(struct ns_route_table *t, uint32_t i)
{
        memmove(&t->slots[i], &t->slots[i + 1], (size_t)(t->count - i - 1) * sizeof(t->slots[0]));
        t->count--;
}

/* Removes the first route of dst's run matching gateway and nic_id; with
 * wildcards, 0 matches any value of either. */
static int del_matching(struct ns_route_table *t, struct ns_ip4_prefix dst, ns_ip4 gateway,
                        uint32_t nic_id, bool wildcards)
{
        if (dst.prefix_len > 32)
                return NS_ERR_NOT_FOUND;
        dst.addr &= ns_ip4_mask(dst.prefix_len);

        uint32_t end;
        for (uint32_t i = run_of(t, dst, &end); i < end; i++) {
                const struct ns_route *o = &t->slots[i].route;
                if ((o->gateway == gateway || (wildcards && gateway == 0)) &&
                    (o->nic_id == nic_id || (wildcards && nic_id == 0))) {
                        remove_slot(t, i);
                        recompute_starts(t);
                        return 0;
                }
        }
        return NS_ERR_NOT_FOUND;
}

int ns__route_del(struct ns_route_table *t, struct ns_ip4_prefix dst, ns_ip4 gateway,
                  uint32_t nic_id)
{
        return del_matching(t, dst, gateway, nic_id, true);
}

int ns__route_del_exact(struct ns_route_table *t, struct ns_ip4_prefix dst, ns_ip4 gateway,
                        uint32_t nic_id)
{
        return del_matching(t, dst, gateway, nic_id, false);
}

void ns__route_del_nic(struct ns_route_table *t, uint32_t nic_id)
{
        uint32_t kept = 0;
        for (uint32_t i = 0; i < t->count; i++)
                if (t->slots[i].route.nic_id != nic_id)
                        t->slots[kept++] = t->slots[i];
        t->count = kept;
        recompute_starts(t);
}

/*
 * The full search. Records the first candidate (before ok()) in the cache;
 * slot `tried` (an index, or UINT32_MAX) was refused by ok() already.
 */
static const struct ns_route *lookup_slow(struct ns_route_table *t, ns_ip4 dst, uint32_t nic_id,
                                          ns_route_nic_ok_fn ok, void *ctx, uint32_t tried)
{
        uint32_t first = 0;
        const struct ns_route *found = NULL;
        /* Longest prefix first: only the groups that hold routes, in order. */
        for (uint64_t m = t->groups; m && !found; m &= m - 1) {
                uint32_t g = lowest_bit(m);
                uint32_t lo = t->start[g], hi = t->start[g + 1];
                ns_ip4 key = dst & ns_ip4_mask((uint8_t)(32 - g));
                for (uint32_t i = lower_bound(t, lo, hi, key);
                     i < hi && t->slots[i].route.dst.addr == key; i++) {
                        const struct ns_route *r = &t->slots[i].route;
                        if (nic_id != 0 && r->nic_id != nic_id)
                                continue;
                        if (first == 0)
                                first = i + 1;
                        if (i == tried || (ok && !ok(r->nic_id, ctx)))
                                continue;
                        found = r;
                        break;
                }
        }
        t->cache_valid = true;
        t->cache_dst = dst;
        t->cache_nic = nic_id;
        t->cache_slot = first;
        return found;
}

const struct ns_route *ns__route_lookup(struct ns_route_table *t, ns_ip4 dst, uint32_t nic_id,
                                        ns_route_nic_ok_fn ok, void *ctx)
{
        if (t->cache_valid && t->cache_dst == dst && t->cache_nic == nic_id) {
                if (t->cache_slot == 0)
                        return NULL; /* no route to dst through nic_id at all */
                uint32_t i = t->cache_slot - 1;
                const struct ns_route *r = &t->slots[i].route;
                if (!ok || ok(r->nic_id, ctx))
                        return r;
                return lookup_slow(t, dst, nic_id, ok, ctx, i);
        }
        return lookup_slow(t, dst, nic_id, ok, ctx, UINT32_MAX);
}

size_t ns__route_list(const struct ns_route_table *t, struct ns_route *out, size_t max)
{
        for (uint32_t i = 0; i < t->count && i < max; i++)
                out[i] = t->slots[i].route;
        return t->count;
}
