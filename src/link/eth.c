/*
 * The Ethernet link: Ethernet II framing over a frame device, presented to
 * the stack as a link that needs next-hop resolution (<netstack/eth.h>).
 */
#include <string.h>

#include <netstack/err.h>
#include <netstack/eth.h>

#include "wire/eth.h"

struct ns_eth {
        struct ns_link link; /* first: the link is the wrapper */
        struct ns_allocator alloc;
        struct ns_frame_dev *lower;
        bool promiscuous;
        struct ns_eth_stats stats;
};

void ns_frame_dev_deliver(struct ns_frame_dev *dev, struct ns_pkt *frame)
{
        if (dev->deliver_frame)
                dev->deliver_frame(dev->deliver_ctx, frame);
        else
                ns_pkt_free(frame);
}

struct ns_pkt_pool *ns_frame_dev_pool(const struct ns_frame_dev *dev)
{
        return dev->upper ? ns_link_pool(dev->upper) : NULL;
}

/* A received frame: checks, demultiplexes by EtherType, hands up. */
static void eth_receive(void *ctx, struct ns_pkt *frame)
{
        struct ns_eth *eth = ctx;
        uint32_t len = ns_pkt_len(frame);
        const uint8_t *f = ns_pkt_data(frame);
        /*
         * Runts and giants are length errors (Treck CVE-2020-11913/11914 fed
         * runts; gVisor TUN took oversize writes, gvisor@f51097051).
         */
        if (ns_eth_validate(f, len) != NS_ETH_VALID || len > (uint64_t)eth->link.mtu + NS_ETH_HDR) {
                eth->stats.rx_length_errors++;
                ns_link_drop_malformed(&eth->link, frame);
                return;
        }
        struct ns_mac dst = ns_mac_from_bytes(ns_eth_dst(f));
        bool group = ns_mac_is_multicast(&dst);
        if (!group && memcmp(dst.b, eth->link.addr, NS_ETH_ALEN) != 0 && !eth->promiscuous) {
                eth->stats.rx_other_host++;
                ns_pkt_free(frame);
                return;
        }
        uint16_t type = ns_eth_ethertype(f);
        ns_pkt_set_link_header(frame);
        (void)ns_pkt_pull(frame, NS_ETH_HDR);
        ns_pkt_set_network_header(frame);
        /* RFC 1122 3.3.6: remember that it came as a link broadcast. */
        if (group)
                frame->flags |= NS_PKT_F_LINK_BCAST;
        else
                frame->flags &= ~NS_PKT_F_LINK_BCAST;
        frame->flags &= ~NS_PKT_F_LINK_DST;
        ns_link_deliver(&eth->link, type, frame);
}

/*
 * A private copy of a short packet with room for the header and the
 * padding, replacing *pp (freed). 0 or NS_ERR_NO_BUFFER_SPACE.
 */
static int grow_short(struct ns_pkt **pp)
{
        struct ns_pkt *p = *pp;
        struct ns_pkt *c = ns_pkt_alloc(p->pool, NS_ETH_HDR, NS_ETH_MIN_FRAME);
        if (!c)
                return NS_ERR_NO_BUFFER_SPACE;
        memcpy(ns_pkt_put(c, ns_pkt_len(p)), ns_pkt_data(p), ns_pkt_len(p));
        ns_pkt_set_network_header(c);
        c->nic_id = p->nic_id;
        c->flags = p->flags;
        c->mark = p->mark;
        c->net_proto = p->net_proto;
        c->transport_proto = p->transport_proto;
        memcpy(c->link_dst, p->link_dst, sizeof(c->link_dst));
        ns_pkt_free(p);
        *pp = c;
        return 0;
}

/*
 * Puts the header in front of one packet (*pp, which may be replaced by a
 * copy) and pads it to the minimum frame. 0 or a negative ns_err.
 */
static int frame_one(struct ns_eth *eth, struct ns_pkt **pp)
{
        struct ns_pkt *pkt = *pp;
        if (!(pkt->flags & NS_PKT_F_LINK_DST)) {
                eth->stats.tx_no_destination++;
                return NS_ERR_NO_ROUTE;
        }
        if (ns_pkt_len(pkt) > eth->link.mtu) {
                eth->stats.tx_errors++;
                return NS_ERR_MESSAGE_TOO_LONG;
        }
        uint32_t pad = 0;
        if (ns_pkt_len(pkt) + NS_ETH_HDR < NS_ETH_MIN_FRAME)
                pad = NS_ETH_MIN_FRAME - NS_ETH_HDR - ns_pkt_len(pkt);
        if (ns_pkt_headroom(pkt) < NS_ETH_HDR || ns_pkt_tailroom(pkt) < pad) {
                if (ns_pkt_len(pkt) > NS_ETH_MIN_FRAME || grow_short(pp) != 0) {
                        eth->stats.tx_errors++;
                        return NS_ERR_NO_BUFFER_SPACE;
                }
                pkt = *pp;
        }
        if (ns_pkt_make_writable(pkt) != 0) {
                eth->stats.tx_errors++;
                return NS_ERR_NO_BUFFER_SPACE;
        }
        if (pad)
                memset(ns_pkt_put(pkt, pad), 0, pad);
        uint8_t *h = ns_pkt_push(pkt, NS_ETH_HDR);
        struct ns_eth_fields hdr = { .ethertype = pkt->net_proto };
        memcpy(hdr.dst.b, pkt->link_dst, NS_ETH_ALEN);
        memcpy(hdr.src.b, eth->link.addr, NS_ETH_ALEN);
        (void)ns_eth_emit(h, NS_ETH_HDR, &hdr);
        ns_pkt_set_link_header(pkt);
        return 0;
}

static int eth_write(struct ns_link *link, struct ns_pkt_list *pkts)
{
        struct ns_eth *eth = (struct ns_eth *)link;
        struct ns_pkt_list frames;
        ns_pkt_list_init(&frames);
        int first_err = 0;
        struct ns_pkt *p;
        while ((p = ns_pkt_list_pop_front(pkts)) != NULL) {
                int err = frame_one(eth, &p);
                if (err) {
                        if (!first_err)
                                first_err = err;
                        ns_pkt_free(p);
                        continue;
                }
                ns_pkt_list_push_back(&frames, p);
        }
        if (ns_pkt_list_empty(&frames))
                return first_err;
        return eth->lower->ops->write(eth->lower, &frames);
}

static const struct ns_link_ops eth_ops = {
        .write = eth_write,
};

struct ns_eth *ns_eth_create(const struct ns_allocator *a, struct ns_frame_dev *lower,
                             const uint8_t mac[6])
{
        if (!lower || !lower->ops || !lower->ops->write || lower->upper || !mac || (mac[0] & 1))
                return NULL;
        struct ns_eth *eth = ns_zalloc(a, sizeof(*eth));
        if (!eth)
                return NULL;
        if (a)
                eth->alloc = *a;
        eth->lower = lower;
        eth->link.ops = &eth_ops;
        eth->link.mtu = lower->mtu;
        eth->link.caps = NS_LINK_CAP_RESOLUTION_REQUIRED;
        eth->link.max_header_len = NS_ETH_HDR;
        memcpy(eth->link.addr, mac, NS_ETH_ALEN);
        lower->deliver_frame = eth_receive;
        lower->deliver_ctx = eth;
        lower->upper = &eth->link;
        return eth;
}

void ns_eth_destroy(struct ns_eth *eth)
{
        if (!eth)
                return;
        eth->lower->deliver_frame = NULL;
        eth->lower->deliver_ctx = NULL;
        eth->lower->upper = NULL;
        struct ns_allocator a = eth->alloc;
        ns_free(&a, eth);
}

struct ns_link *ns_eth_link(struct ns_eth *eth)
{
        return &eth->link;
}

void ns_eth_set_promiscuous(struct ns_eth *eth, bool on)
{
        eth->promiscuous = on;
}

void ns_eth_get_stats(const struct ns_eth *eth, struct ns_eth_stats *out)
{
        *out = eth->stats;
}
