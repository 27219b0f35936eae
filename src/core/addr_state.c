/* The address table of one endpoint (core/addr_state.h). */
#include <string.h>

#include <netstack/err.h>

#include "core/addr_state.h"

/* Tells whoever watches (addr_state.h, `gen`) that the entries changed. */
static void changed(struct ns_addr_state *s)
{
        if (s->gen)
                ++*s->gen;
}

/* Index of e in arr[0..n), or -1. */
static int index_of(struct ns_addr_entry *const *arr, uint32_t n, const struct ns_addr_entry *e)
{
        for (uint32_t i = 0; i < n; i++)
                if (arr[i] == e)
                        return (int)i;
        return -1;
}

/* Removes slot i of arr[0..*n), keeping the order of the rest. */
static void remove_slot(struct ns_addr_entry **arr, uint32_t *n, uint32_t i)
{
        memmove(&arr[i], &arr[i + 1], (size_t)(*n - i - 1) * sizeof(arr[0]));
        (*n)--;
}

static void primary_remove(struct ns_addr_state *s, const struct ns_addr_entry *e)
{
        int i = index_of(s->primary, s->n_primary, e);
        if (i >= 0)
                remove_slot(s->primary, &s->n_primary, (uint32_t)i);
}

static void primary_push_front(struct ns_addr_state *s, struct ns_addr_entry *e)
{
        memmove(&s->primary[1], &s->primary[0], (size_t)s->n_primary * sizeof(s->primary[0]));
        s->primary[0] = e;
        s->n_primary++;
}

/* Places e in the primary list as behaviour peb asks (gVisor's rules, for a
 * new entry and for one being promoted): can-be-primary keeps an existing
 * slot or joins the back; first-primary moves to or joins the front;
 * never-primary leaves. */
static void primary_place(struct ns_addr_state *s, struct ns_addr_entry *e, enum ns_peb peb)
{
        int i = index_of(s->primary, s->n_primary, e);

        switch (peb) {
        case NS_PEB_CAN_BE_PRIMARY:
                if (i < 0)
                        s->primary[s->n_primary++] = e;
                break;
        case NS_PEB_FIRST_PRIMARY:
                if (i == 0)
                        break;
                if (i > 0)
                        remove_slot(s->primary, &s->n_primary, (uint32_t)i);
                primary_push_front(s, e);
                break;
        case NS_PEB_NEVER_PRIMARY:
                if (i >= 0)
                        remove_slot(s->primary, &s->n_primary, (uint32_t)i);
                break;
        }
}

/* Unlinks e from both lists and frees it. */
static void destroy_entry(struct ns_addr_state *s, struct ns_addr_entry *e)
{
        changed(s);
        int i = index_of(s->entries, s->n_entries, e);
        if (i >= 0)
                remove_slot(s->entries, &s->n_entries, (uint32_t)i);
        primary_remove(s, e);
        ns_free(&s->alloc, e);
}

static struct ns_addr_entry *new_entry(struct ns_addr_state *s, struct ns_ip4_prefix pfx,
                                       enum ns_peb peb, enum ns_addr_kind kind)
{
        if (s->n_entries >= NS_ADDR_MAX_ENTRIES)
                return NULL;
        struct ns_addr_entry *e = ns_zalloc(&s->alloc, sizeof(*e));
        if (!e)
                return NULL;
        e->pfx = pfx;
        e->peb = peb;
        e->kind = kind;
        s->entries[s->n_entries++] = e;
        return e;
}

static void fast_add(struct ns_addr_state *s, struct ns_addr_entry *e)
{
        uint32_t i = s->n_fast++;
        ns_ip4 m = ns_ip4_mask(e->pfx.prefix_len);
        s->fast_addr[i] = e->pfx.addr;
        s->fast_mask[i] = m;
        s->fast_bcast[i] = e->pfx.prefix_len <= 30 ? (e->pfx.addr | ~m) : e->pfx.addr;
        s->fast_entry[i] = e;
        s->fast_bloom |= ns__addr_bloom_bit(s->fast_addr[i]) | ns__addr_bloom_bit(s->fast_bcast[i]);
}

static void fast_remove(struct ns_addr_state *s, const struct ns_addr_entry *e)
{
        for (uint32_t i = 0; i < s->n_fast; i++) {
                if (s->fast_entry[i] != e)
                        continue;
                /* Keep the order: matching returns the first candidate. */
                for (uint32_t j = i + 1; j < s->n_fast; j++) {
                        s->fast_addr[j - 1] = s->fast_addr[j];
                        s->fast_mask[j - 1] = s->fast_mask[j];
                        s->fast_bcast[j - 1] = s->fast_bcast[j];
                        s->fast_entry[j - 1] = s->fast_entry[j];
                }
                s->n_fast--;
                /* A filter only ever gains bits: build it again from what is left. */
                s->fast_bloom = 0;
                for (uint32_t j = 0; j < s->n_fast; j++)
                        s->fast_bloom |= ns__addr_bloom_bit(s->fast_addr[j]) |
                                         ns__addr_bloom_bit(s->fast_bcast[j]);
                return;
        }
}

void ns__addr_state_init(struct ns_addr_state *s, const struct ns_allocator *a)
{
        memset(s, 0, sizeof(*s));
        if (a)
                s->alloc = *a;
}

void ns__addr_state_cleanup(struct ns_addr_state *s)
{
        for (uint32_t i = 0; i < s->n_entries; i++)
                ns_free(&s->alloc, s->entries[i]);
        s->n_entries = 0;
        s->n_primary = 0;
        s->n_permanent = 0;
        s->n_fast = 0;
        s->fast_bloom = 0;
        changed(s);
}

struct ns_addr_entry *ns__addr_find(const struct ns_addr_state *s, ns_ip4 addr)
{
        for (uint32_t i = 0; i < s->n_entries; i++)
                if (s->entries[i]->pfx.addr == addr)
                        return s->entries[i];
        return NULL;
}

static int add_permanent(struct ns_addr_state *s, struct ns_ip4_prefix pfx, enum ns_peb peb,
                         bool deprecated, struct ns_addr_entry **out)
{
        if (pfx.prefix_len > 32 || (peb != NS_PEB_CAN_BE_PRIMARY && peb != NS_PEB_FIRST_PRIMARY &&
                                    peb != NS_PEB_NEVER_PRIMARY))
                return NS_ERR_INVALID_ARGUMENT;
        struct ns_addr_entry *e = ns__addr_find(s, pfx.addr);
        if (e && e->kind == NS_ADDR_PERMANENT)
                return NS_ERR_DUPLICATE_ADDRESS;
        if (s->n_permanent >= NS_ADDR_MAX_PER_NIC)
                return NS_ERR_NO_BUFFER_SPACE;
        if (!e) {
                if (s->n_entries >= NS_ADDR_MAX_ENTRIES)
                        return NS_ERR_NO_BUFFER_SPACE;
                e = new_entry(s, pfx, peb, NS_ADDR_PERMANENT);
                if (!e)
                        return NS_ERR_NO_MEMORY;
        }
        /* Promotion keeps the entry (and its holders' pointers) and only
         * takes the new properties. */
        e->pfx = pfx;
        e->peb = peb;
        e->kind = NS_ADDR_PERMANENT;
        e->deprecated = deprecated;
        e->refs += 2; /* one for being permanent, one for the caller */
        s->n_permanent++;
        fast_add(s, e);
        primary_place(s, e, peb);
        changed(s);
        *out = e;
        return 0;
}

struct ns_addr_entry *ns__addr_add_permanent(struct ns_addr_state *s, struct ns_ip4_prefix pfx,
                                             enum ns_peb peb, bool deprecated, int *err)
{
        struct ns_addr_entry *e = NULL;
        int rc = add_permanent(s, pfx, peb, deprecated, &e);
        if (err)
                *err = rc;
        return e;
}

int ns__addr_remove_permanent(struct ns_addr_state *s, ns_ip4 addr)
{
        struct ns_addr_entry *e = ns__addr_find(s, addr);
        if (!e || e->kind != NS_ADDR_PERMANENT)
                return NS_ERR_BAD_LOCAL_ADDRESS;
        e->kind = NS_ADDR_PERMANENT_EXPIRED;
        s->n_permanent--;
        fast_remove(s, e);
        changed(s);
        ns__addr_release(s, e);
        return 0;
}

int ns__addr_set_deprecated(struct ns_addr_state *s, ns_ip4 addr, bool deprecated)
{
        struct ns_addr_entry *e = ns__addr_find(s, addr);
        if (!e)
                return NS_ERR_BAD_LOCAL_ADDRESS;
        e->deprecated = deprecated;
        changed(s);
        return 0;
}

void ns__addr_release_last(struct ns_addr_state *s, struct ns_addr_entry *e)
{
        if (e->refs == 0)
                return; /* a caller bug; never underflow into a huge count */
        if (--e->refs == 0 && e->kind != NS_ADDR_PERMANENT)
                destroy_entry(s, e);
}

struct ns_addr_entry *ns__addr_acquire_assigned(struct ns_addr_state *s, ns_ip4 addr,
                                                ns_addr_match_fn match, void *ctx, bool allow_temp,
                                                enum ns_peb temp_peb)
{
        struct ns_addr_entry *exact = ns__addr_find(s, addr);

        if (exact && (exact->kind == NS_ADDR_PERMANENT || allow_temp)) {
                exact->refs++;
                return exact;
        }
        if (match) {
                for (uint32_t i = 0; i < s->n_entries; i++) {
                        struct ns_addr_entry *e = s->entries[i];
                        if (e->kind == NS_ADDR_PERMANENT && match(e, addr, ctx)) {
                                e->refs++;
                                return e;
                        }
                }
        }
        if (!allow_temp || exact)
                return NULL;
        if (s->n_entries - s->n_permanent >= NS_ADDR_MAX_TRANSIENT)
                return NULL;
        struct ns_ip4_prefix host = { .addr = addr, .prefix_len = 32 };
        struct ns_addr_entry *e = new_entry(s, host, temp_peb, NS_ADDR_TEMPORARY);
        if (!e)
                return NULL;
        e->refs = 1;
        primary_place(s, e, temp_peb);
        changed(s);
        return e;
}

/* Rank of e as a source for remote (higher is better; 0: not eligible). */
static int outgoing_rank(const struct ns_addr_entry *e, ns_ip4 remote, bool allow_expired)
{
        if (e->kind == NS_ADDR_TEMPORARY ||
            (e->kind == NS_ADDR_PERMANENT_EXPIRED && !allow_expired))
                return 0;
        int rank = 1;
        if (!e->deprecated)
                rank += 2;
        if (remote != 0 && ns_ip4_prefix_contains(e->pfx, remote))
                rank += 1;
        return rank;
}

struct ns_addr_entry *ns__addr_acquire_outgoing_primary(struct ns_addr_state *s, ns_ip4 remote,
                                                        bool allow_expired)
{
        struct ns_addr_entry *best = NULL;
        int best_rank = 0;

        for (uint32_t i = 0; i < s->n_primary; i++) {
                int rank = outgoing_rank(s->primary[i], remote, allow_expired);
                if (rank > best_rank) {
                        best = s->primary[i];
                        best_rank = rank;
                }
        }
        if (best)
                best->refs++;
        return best;
}

struct ns_ip4_prefix ns__addr_main(const struct ns_addr_state *s)
{
        const struct ns_addr_entry *deprecated = NULL;

        for (uint32_t i = 0; i < s->n_primary; i++) {
                const struct ns_addr_entry *e = s->primary[i];
                if (e->kind != NS_ADDR_PERMANENT)
                        continue;
                if (!e->deprecated)
                        return e->pfx;
                if (!deprecated)
                        deprecated = e;
        }
        if (deprecated)
                return deprecated->pfx;
        struct ns_ip4_prefix none = { 0, 0 };
        return none;
}

size_t ns__addr_primary_list(const struct ns_addr_state *s, struct ns_ip4_prefix *out, size_t max)
{
        size_t n = 0;
        for (uint32_t i = 0; i < s->n_primary; i++) {
                if (s->primary[i]->kind != NS_ADDR_PERMANENT)
                        continue;
                if (n < max)
                        out[n] = s->primary[i]->pfx;
                n++;
        }
        return n;
}

size_t ns__addr_permanent_list(const struct ns_addr_state *s, struct ns_ip4_prefix *out, size_t max)
{
        size_t n = 0;
        for (uint32_t i = 0; i < s->n_entries; i++) {
                if (s->entries[i]->kind != NS_ADDR_PERMANENT)
                        continue;
                if (n < max)
                        out[n] = s->entries[i]->pfx;
                n++;
        }
        return n;
}

bool ns__addr_has_assigned(const struct ns_addr_state *s, ns_ip4 addr)
{
        const struct ns_addr_entry *e = ns__addr_find(s, addr);
        return e && e->kind == NS_ADDR_PERMANENT;
}
