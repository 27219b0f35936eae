/*
 * Packet operations above the pool: building from bytes, copy-on-write,
 * deep copies and packet lists.
 */
#include <stdint.h>
#include <string.h>

#include <netstack/err.h>
#include <netstack/pkt.h>

#include "buf/pkt_pool.h"

/* Makes the len bytes at data the contents of p, fresh with room for them
 * after `headroom`. */
static struct ns_pkt *fill(struct ns_pkt *p, uint32_t headroom, const void *data, uint32_t len)
{
        p->len = len;
        if (len)
                memcpy(p->head + headroom, data, len);
        return p;
}

static __attribute__((noinline)) struct ns_pkt *
from_bytes_slow(struct ns_pkt_pool *pool, uint32_t headroom, const void *data, uint32_t len)
{
        struct ns_pkt *p = ns__pkt_alloc_slow(pool, headroom, len);

        return p ? fill(p, headroom, data, len) : NULL;
}

struct ns_pkt *ns_pkt_from_bytes(struct ns_pkt_pool *pool, uint32_t headroom, const void *data,
                                 uint32_t len)
{
        struct ns_pkt *p = ns__pkt_alloc_warm(pool, headroom, len);

        /* The slow path is a tail call: only p is kept across memcpy. */
        if (!p)
                return from_bytes_slow(pool, headroom, data, len);
        return fill(p, headroom, data, len);
}

/*
 * Returns the offset from head of the first byte worth keeping: the data
 * start, or the earliest header marked before it.
 */
static uint32_t first_kept(const struct ns_pkt *p)
{
        uint32_t lo = p->off;

        if (p->link_hdr < lo)
                lo = p->link_hdr;
        if (p->net_hdr < lo)
                lo = p->net_hdr;
        if (p->transport_hdr < lo)
                lo = p->transport_hdr;
        return lo;
}

int ns_pkt_make_writable(struct ns_pkt *p)
{
        struct ns_pkt_data *d;
        uint32_t lo;

        if (p->buf->refcnt == 1)
                return 0;
        d = ns__pkt_data_get(p->pool, p->cap);
        if (!d) {
                ns__pkt_pool_count_failure(p->pool);
                return NS_ERR_NO_BUFFER_SPACE;
        }
        /* Same capacity class, so d->cap == p->cap and every offset holds. */
        lo = first_kept(p);
        memcpy(ns__pkt_data_bytes(d) + lo, p->head + lo, p->off + p->len - lo);
        ns__pkt_data_release(p->pool, p->buf);
        ns__pkt_attach(p, d);
        return 0;
}

/* Moves a header mark of the source into the copy, or drops it. */
static uint32_t rebase_mark(uint32_t h, uint32_t lo, uint32_t end, uint32_t headroom)
{
        if (h == NS_PKT_NO_HDR || h > end)
                return NS_PKT_NO_HDR;
        return h - lo + headroom;
}

struct ns_pkt *ns_pkt_copy(struct ns_pkt_pool *pool, const struct ns_pkt *p, uint32_t headroom)
{
        uint32_t lo = first_kept(p);
        uint32_t end = p->off + p->len;
        struct ns_pkt *c = ns_pkt_alloc(pool, headroom, end - lo);

        if (!c)
                return NULL;
        memcpy(c->head + headroom, p->head + lo, end - lo);
        c->off = headroom + (p->off - lo);
        c->len = p->len;
        c->link_hdr = rebase_mark(p->link_hdr, lo, end, headroom);
        c->net_hdr = rebase_mark(p->net_hdr, lo, end, headroom);
        c->transport_hdr = rebase_mark(p->transport_hdr, lo, end, headroom);
        c->nic_id = p->nic_id;
        c->flags = p->flags;
        c->mark = p->mark;
        c->net_proto = p->net_proto;
        c->transport_proto = p->transport_proto;
        return c;
}

void ns_pkt_list_insert_after(struct ns_pkt_list *l, struct ns_pkt *pos, struct ns_pkt *p)
{
        if (!pos) {
                ns_pkt_list_push_front(l, p);
                return;
        }
        p->next = pos->next;
        pos->next = p;
        if (l->tail == pos)
                l->tail = p;
        l->count++;
}

void ns_pkt_list_remove(struct ns_pkt_list *l, struct ns_pkt *p)
{
        struct ns_pkt *prev = NULL;
        struct ns_pkt *cur = l->head;

        while (cur && cur != p) {
                prev = cur;
                cur = cur->next;
        }
        if (!cur)
                return;
        if (prev)
                prev->next = p->next;
        else
                l->head = p->next;
        if (l->tail == p)
                l->tail = prev;
        l->count--;
        p->next = NULL;
}

void ns_pkt_list_free(struct ns_pkt_list *l)
{
        struct ns_pkt *p;

        while ((p = ns_pkt_list_pop_front(l)) != NULL)
                ns_pkt_free(p);
}
