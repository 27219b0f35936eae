/*
 * Forwarding, as the seed's forwardPacket: TTL, options with the forward
 * usage, local delivery when another NIC owns the destination, route,
 * TTL-1 and the FORWARD hook. The rest of RFC 1812 (egress fragmentation,
 * fragmentation needed, martian rules, per-NIC switches) is the
 * [forwarding] issue's.
 */
#include <string.h>

#include <netstack/err.h>

#include "ipv4/ipv4.h"
#include "ipv4/options.h"
#include "wire/icmp4.h"
#include "wire/ipv4.h"

#define EPS(ep) (&(ep)->nic->stats)
#define SS(ep)  (&(ep)->p->s->stats)

void ns__ipv4_forward(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        struct ns_ipv4 *p = ep->p;
        struct ns_stack *s = p->s;
        uint8_t *h = ns_pkt_data(pkt);
        uint8_t ttl = ns_ipv4_ttl(h);
        /* RFC 792 / RFC 1812 5.3.1: a datagram whose TTL runs out is dropped with 11/0. */
        if (ttl <= 1) {
                struct ns_icmp_reason why = { .type = NS_ICMP4_TIME_EXCEEDED,
                                              .code = NS_ICMP4_TTL_EXCEEDED,
                                              .forwarding = true };
                (void)ns__icmp4_send_error(p, &why, pkt);
                NS_STAT_INC(EPS(ep), SS(ep), ip, forward_ttl_exceeded);
                ns_pkt_free(pkt);
                return;
        }
        if (ns_pkt_make_writable(pkt) != 0) {
                NS_STAT_INC(EPS(ep), SS(ep), ip, forward_errors);
                ns_pkt_free(pkt);
                return;
        }
        h = ns_pkt_data(pkt);
        size_t olen = ns_ipv4_options_len(h);
        if (olen) {
                uint8_t out[NS_IPV4_MAX_OPTS];
                size_t out_len = 0;
                if (!ns__ipv4_options_run(ep, pkt, NS_OPT_USAGE_FORWARD, true, out, &out_len)) {
                        ns_pkt_free(pkt);
                        return;
                }
                /* The option area keeps its size; the rest is EOL padding. */
                memcpy(h + NS_IPV4_MIN_HDR, out, olen);
                ns_ipv4_fill_checksum(h);
        }
        ns_ip4 dst = ns_ipv4_dst(h);
        struct ns_nic *owner = ns__stack_nic_with_address(s, dst);
        if (owner) {
                ns__ipv4_handle_packet(ns__ipv4_ep(p, owner), pkt);
                return;
        }
        struct ns_nic *out_nic;
        ns_ip4 next_hop;
        uint32_t mtu;
        if (ns__stack_route_forward(s, dst, &out_nic, &next_hop, &mtu) != 0) {
                NS_STAT_INC(EPS(ep), SS(ep), ip, forward_unrouteable);
                ns_pkt_free(pkt);
                return;
        }
        struct ns_filter_info info = { .hook = NS_HOOK_FORWARD,
                                       .in_nic = ep->nic->id,
                                       .in_name = ep->nic->name,
                                       .out_nic = out_nic->id,
                                       .out_name = out_nic->name };
        if (ns__filter_check(&s->filter, NS_HOOK_FORWARD, pkt, &info) != NS_VERDICT_ACCEPT) {
                NS_STAT_INC(EPS(ep), SS(ep), ip, iptables_forward_dropped);
                ns_pkt_free(pkt);
                return;
        }
        /* RFC 791 / RFC 1624: decrement the TTL, patch the checksum. */
        (void)ns_ipv4_dec_ttl(ns_pkt_data(pkt));
        pkt->flags = NS_PKT_F_FORWARDED;
        NS_STAT_INC(EPS(ep), SS(ep), ip, forwarded);
        if (ns__ipv4_output(p, out_nic, mtu, next_hop, pkt) != 0)
                NS_STAT_INC(EPS(ep), SS(ep), ip, forward_errors);
}
