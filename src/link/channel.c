/*
 * The channel link: an in-memory device whose receive side is fed by the
 * caller and whose transmit side fills a bounded FIFO (gVisor's
 * link/channel, used to drive every protocol test).
 */
#include <string.h>

#include <netstack/channel.h>
#include <netstack/err.h>

struct ns_channel {
        struct ns_link link; /* first: the link is the channel */
        struct ns_allocator alloc;
        struct ns_pkt_list out;
        uint32_t queue_len;
        uint64_t dropped;
};

/* channel_write() for a list that does not fit: queue up to the bound, drop the rest. */
static __attribute__((noinline)) int write_until_full(struct ns_channel *ch,
                                                      struct ns_pkt_list *pkts)
{
        int written = 0;
        struct ns_pkt *p;
        while ((p = ns_pkt_list_pop_front(pkts)) != NULL) {
                if (ch->out.count >= ch->queue_len) {
                        ch->dropped++;
                        ns_pkt_free(p);
                        continue;
                }
                ns_pkt_list_push_back(&ch->out, p);
                written++;
        }
        return written;
}

static int channel_write(struct ns_link *link, struct ns_pkt_list *pkts)
{
        struct ns_channel *ch = (struct ns_channel *)link;
        uint32_t n = pkts->count;
        if (n > ch->queue_len - ch->out.count)
                return write_until_full(ch, pkts);
        /* Room for the whole list: move it over in one piece. */
        if (n == 0)
                return 0;
        if (ch->out.tail)
                ch->out.tail->next = pkts->head;
        else
                ch->out.head = pkts->head;
        ch->out.tail = pkts->tail;
        ch->out.count += n;
        ns_pkt_list_init(pkts);
        return (int)n;
}

static const struct ns_link_ops channel_ops = {
        .write = channel_write,
};

struct ns_channel *ns_channel_create(const struct ns_allocator *a, uint32_t mtu, uint32_t queue_len,
                                     uint32_t caps)
{
        struct ns_channel *ch = ns_zalloc(a, sizeof(*ch));
        if (!ch)
                return NULL;
        if (a)
                ch->alloc = *a;
        ch->link.ops = &channel_ops;
        ch->link.mtu = mtu;
        ch->link.caps = caps;
        ch->queue_len = queue_len ? queue_len : 1024;
        ns_pkt_list_init(&ch->out);
        return ch;
}

void ns_channel_destroy(struct ns_channel *ch)
{
        if (!ch)
                return;
        ns_pkt_list_free(&ch->out);
        struct ns_allocator a = ch->alloc;
        ns_free(&a, ch);
}

struct ns_link *ns_channel_link(struct ns_channel *ch)
{
        return &ch->link;
}

void ns_channel_inject(struct ns_channel *ch, uint16_t net_proto, struct ns_pkt *pkt)
{
        ns_link_deliver(&ch->link, net_proto, pkt);
}

int ns_channel_inject_bytes(struct ns_channel *ch, uint16_t net_proto, const void *data,
                            uint32_t len)
{
        struct ns_pkt_pool *pool = ns_link_pool(&ch->link);
        if (!pool)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        /* Headroom lets the stack build replies in place of the request. */
        struct ns_pkt *p = ns_pkt_from_bytes(pool, 128, data, len);
        if (!p)
                return NS_ERR_NO_BUFFER_SPACE;
        ns_link_deliver(&ch->link, net_proto, p);
        return 0;
}

struct ns_pkt *ns_channel_read(struct ns_channel *ch)
{
        return ns_pkt_list_pop_front(&ch->out);
}

uint32_t ns_channel_queued(const struct ns_channel *ch)
{
        return ch->out.count;
}

uint64_t ns_channel_dropped(const struct ns_channel *ch)
{
        return ch->dropped;
}

void ns_channel_drain(struct ns_channel *ch)
{
        ns_pkt_list_free(&ch->out);
}
