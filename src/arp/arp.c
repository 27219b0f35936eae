/*
 * ARP for IPv4 over Ethernet (RFC 826): receive (validation, answers for
 * our own addresses, learning as Linux's arp_process does), requests for
 * the neighbour cache (core/neigh.h), gratuitous ARP when an address is
 * added (RFC 5227 section 3), and the link-resolution failure hook.
 */
#include <string.h>

#include <netstack/arp.h>
#include <netstack/err.h>

#include "core/neigh.h"
#include "core/stack.h"
#include "ipv4/ipv4.h"
#include "wire/arp.h"
#include "wire/eth.h"

/* Headroom of the packets we build: the link header and some spare. */
#define ARP_TX_HEADROOM 64

struct ns_arp {
        struct ns_stack *s;
        unsigned slot;
};

#define NIC_STATS(nic) (&(nic)->stats)
#define STK_STATS(nic) (&(nic)->stack->stats)

/* Builds and sends one ARP packet to the link address dst. 0 or a negative ns_err. */
static int send_arp(struct ns_nic *nic, const struct ns_arp_fields *f, const struct ns_mac *dst)
{
        struct ns_stack *s = nic->stack;
        uint32_t headroom = ARP_TX_HEADROOM + ns__nic_max_header_len(nic);
        /* Room for the padding of a minimum Ethernet frame, so nothing is copied. */
        struct ns_pkt *pkt = ns_pkt_alloc(s->pool, headroom, 46);
        if (!pkt)
                return NS_ERR_NO_BUFFER_SPACE;
        uint8_t *out = ns_pkt_put(pkt, NS_ARP_LEN);
        (void)ns_arp_emit(out, NS_ARP_LEN, f);
        ns_pkt_set_network_header(pkt);
        pkt->net_proto = NS_ETHERTYPE_ARP;
        memcpy(pkt->link_dst, dst->b, NS_ETH_ALEN);
        pkt->flags |= NS_PKT_F_LINK_DST;
        return ns__nic_write(nic, pkt);
}

static struct ns_mac our_mac(const struct ns_nic *nic)
{
        return ns_mac_from_bytes(nic->link->addr);
}

/* True when addr is exactly one of the NIC's unicast addresses. */
static bool owns(const struct ns_nic *nic, ns_ip4 addr)
{
        /* The IPv4 endpoint assigns 255.255.255.255 to receive broadcasts; never answer for it. */
        if (addr == NS_IP4_ANY || addr == NS_IP4_BROADCAST || ns_ip4_is_multicast(addr))
                return false;
        return ns__addr_has_assigned(&nic->addrs, addr);
}

/*
 * resolver.request: one who-has for target. The sender is the waiting
 * packet's source when the NIC owns it, else the NIC's main address
 * (Linux arp_solicit falls back to inet_select_addr the same way).
 */
static int request(void *ctx, struct ns_nic *nic, ns_ip4 target, ns_ip4 sender,
                   const uint8_t *dst_mac)
{
        (void)ctx;
        if (!nic->enabled) {
                NS_STAT_INC(NIC_STATS(nic), STK_STATS(nic), arp, outgoing_requests_dropped);
                return NS_ERR_INVALID_ENDPOINT_STATE;
        }
        if (!owns(nic, sender)) {
                struct ns_ip4_prefix main = ns__addr_main(&nic->addrs);
                if (main.addr == NS_IP4_ANY) {
                        NS_STAT_INC(NIC_STATS(nic), STK_STATS(nic), arp,
                                    outgoing_request_interface_has_no_local_address_errors);
                        return NS_ERR_BAD_LOCAL_ADDRESS;
                }
                sender = main.addr;
        }
        /* RFC 826: the target hardware address is unknown, so zero (as Linux). */
        struct ns_arp_fields f = {
                .op = NS_ARP_OP_REQUEST, .sha = our_mac(nic), .spa = sender, .tpa = target
        };
        struct ns_mac dst = dst_mac ? ns_mac_from_bytes(dst_mac) : ns_mac_broadcast();
        int err = send_arp(nic, &f, &dst);
        if (err)
                NS_STAT_INC(NIC_STATS(nic), STK_STATS(nic), arp, outgoing_requests_dropped);
        else
                NS_STAT_INC(NIC_STATS(nic), STK_STATS(nic), arp, outgoing_requests_sent);
        return err;
}

/* resolver.failed: hand the packet to its protocol (IPv4: ICMP host unreachable). */
static void failed(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        struct ns_arp *a = ctx;
        struct ns_ipv4 *ip = ns__ipv4_of(a->s);
        if (ip && pkt->net_proto == NS_ETHERTYPE_IPV4)
                ns__ipv4_link_resolution_failed(ip, nic, pkt);
        else
                ns_pkt_free(pkt);
}

/*
 * The reply to a request for our address tpa (gvisor@67a3f4039: every
 * field set). It goes to the requester's ARP sender address, not the
 * Ethernet source (genodelabs/genode#3624), as Linux's arp_send_dst.
 */
static void reply(struct ns_nic *nic, const struct ns_arp_fields *req)
{
        struct ns_arp_fields f = { .op = NS_ARP_OP_REPLY,
                                   .sha = our_mac(nic),
                                   .spa = req->tpa,
                                   .tha = req->sha,
                                   .tpa = req->spa };
        if (send_arp(nic, &f, &req->sha) == 0)
                NS_STAT_INC(NIC_STATS(nic), STK_STATS(nic), arp, outgoing_replies_sent);
        else
                NS_STAT_INC(NIC_STATS(nic), STK_STATS(nic), arp, outgoing_replies_dropped);
}

/* Fields no honest sender puts in an Ethernet/IPv4 ARP packet. */
static bool bad_sender(const struct ns_arp_fields *f)
{
        return ns_mac_is_multicast(&f->sha) || ns_mac_is_zero(&f->sha) ||
               f->spa == NS_IP4_BROADCAST || ns_ip4_is_multicast(f->spa);
}

/* ns_netproto.deliver for 0x0806: one ARP packet (data at the ARP header). */
static void deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt)
{
        (void)ctx;
        struct ns_stats *eps = NIC_STATS(nic), *ss = STK_STATS(nic);
        NS_STAT_INC(eps, ss, arp, packets_received);
        if (!nic->neigh) {
                /* The link resolves nothing (a TUN, the channel): ARP is off here. */
                NS_STAT_INC(eps, ss, arp, disabled_packets_received);
                goto free;
        }
        struct ns_arp_fields f;
        /* HOSTILE 71: length, htype, ptype, hlen, plen and opcode, all checked. */
        if (ns_arp_parse(ns_pkt_data(pkt), ns_pkt_len(pkt), &f) != NS_ARP_VALID || bad_sender(&f)) {
                NS_STAT_INC(eps, ss, arp, malformed_packets_received);
                goto free;
        }
        bool link_unicast = !(pkt->flags & NS_PKT_F_LINK_BCAST);
        /* Linux drops requests for multicast or loopback targets outright. */
        if (ns_ip4_is_multicast(f.tpa) || ns_ip4_is_loopback(f.tpa)) {
                NS_STAT_INC(eps, ss, arp, malformed_packets_received);
                goto free;
        }
        if (f.op == NS_ARP_OP_REQUEST) {
                NS_STAT_INC(eps, ss, arp, requests_received);
                if (owns(nic, f.tpa)) {
                        /* RFC 5227 probes (sender 0.0.0.0) are answered, never learned. */
                        if (f.spa != NS_IP4_ANY && !owns(nic, f.spa))
                                ns__neigh_learn(nic, f.spa, f.sha.b, NS_NEIGH_LEARN_CREATE_STALE);
                        reply(nic, &f);
                        goto free;
                }
                /* HOSTILE 72: never answer for an address we do not own. */
                NS_STAT_INC(eps, ss, arp, requests_received_unknown_target_address);
        } else {
                NS_STAT_INC(eps, ss, arp, replies_received);
        }
        /*
         * Everything else (gratuitous requests and replies, replies to our
         * requests, requests between other hosts) only updates an entry we
         * already have (Linux arp_process with arp_accept 0). Only a reply
         * sent to us unicast confirms reachability.
         */
        if (f.spa != NS_IP4_ANY && !owns(nic, f.spa)) {
                bool confirm = f.op == NS_ARP_OP_REPLY && link_unicast;
                ns__neigh_learn(nic, f.spa, f.sha.b,
                                confirm ? NS_NEIGH_LEARN_UPDATE_REACHABLE
                                        : NS_NEIGH_LEARN_UPDATE_STALE);
        }
free:
        ns_pkt_free(pkt);
}

/*
 * Announces a new address with a gratuitous ARP in request form (RFC 5227
 * section 3: sender and target protocol address both the new address,
 * target hardware address zero; mirage/mirage-tcpip#225 got this wrong).
 */
static void address_added(void *ctx, struct ns_nic *nic, struct ns_ip4_prefix addr)
{
        (void)ctx;
        if (!nic->neigh || !nic->enabled || !owns(nic, addr.addr))
                return;
        struct ns_arp_fields f = {
                .op = NS_ARP_OP_REQUEST, .sha = our_mac(nic), .spa = addr.addr, .tpa = addr.addr
        };
        struct ns_mac dst = ns_mac_broadcast();
        if (send_arp(nic, &f, &dst) == 0)
                NS_STAT_INC(NIC_STATS(nic), STK_STATS(nic), arp, outgoing_requests_sent);
        else
                NS_STAT_INC(NIC_STATS(nic), STK_STATS(nic), arp, outgoing_requests_dropped);
}

static int arp_attach(struct ns_stack *s)
{
        struct ns_arp *a = ns_zalloc(&s->alloc, sizeof(*a));
        if (!a)
                return NS_ERR_NO_MEMORY;
        a->s = s;
        struct ns_netproto np = {
                .ethertype = NS_ETHERTYPE_ARP,
                .ctx = a,
                .deliver = deliver,
                .address_added = address_added,
        };
        int slot = ns__stack_register_netproto(s, &np);
        if (slot < 0) {
                ns_free(&s->alloc, a);
                return slot;
        }
        a->slot = (unsigned)slot;
        s->arp = a;
        s->resolver = (struct ns_resolver){ .ctx = a, .request = request, .failed = failed };
        return 0;
}

static void arp_detach(struct ns_stack *s)
{
        struct ns_arp *a = s->arp;
        if (!a)
                return;
        memset(&s->resolver, 0, sizeof(s->resolver));
        s->arp = NULL;
        ns_free(&s->alloc, a);
}

const struct ns_module ns_module_arp = {
        .name = "arp",
        .attach = arp_attach,
        .detach = arp_detach,
};
