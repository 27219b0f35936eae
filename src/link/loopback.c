/*
 * The loopback link: what is written comes straight back in on the same
 * NIC, synchronously, like gVisor's link/loopback. The stack marks the NIC
 * as loopback from NS_LINK_CAP_LOOPBACK, which makes it own whole subnets
 * (Linux lo semantics) and skip the loop flags of routes.
 */
#include <netstack/channel.h>

struct ns_loopback {
        struct ns_link link;
        struct ns_allocator alloc;
};

static int loopback_write(struct ns_link *link, struct ns_pkt_list *pkts)
{
        int n = 0;
        struct ns_pkt *p;
        while ((p = ns_pkt_list_pop_front(pkts)) != NULL) {
                uint16_t proto = p->net_proto;
                /* Inbound metadata starts afresh; the bytes are the packet. */
                p->flags = 0;
                p->link_hdr = p->net_hdr = p->transport_hdr = NS_PKT_NO_HDR;
                ns_link_deliver(link, proto, p);
                n++;
        }
        return n;
}

static const struct ns_link_ops loopback_ops = {
        .write = loopback_write,
};

struct ns_link *ns_loopback_create(const struct ns_allocator *a, uint32_t mtu)
{
        struct ns_loopback *lo = ns_zalloc(a, sizeof(*lo));
        if (!lo)
                return NULL;
        if (a)
                lo->alloc = *a;
        lo->link.ops = &loopback_ops;
        lo->link.mtu = mtu;
        lo->link.caps = NS_LINK_CAP_LOOPBACK;
        return &lo->link;
}

void ns_loopback_destroy(struct ns_link *link)
{
        if (!link)
                return;
        struct ns_loopback *lo = (struct ns_loopback *)link;
        struct ns_allocator a = lo->alloc;
        ns_free(&a, lo);
}
