/*
 * What IPv4 does with a packet whose next hop never answered ARP: the
 * seed's HandleLinkResolutionFailure.
 */
#include "ipv4/ipv4.h"
#include "wire/icmp4.h"

void ns__ipv4_link_resolution_failed(struct ns_ipv4 *p, struct ns_nic *nic, struct ns_pkt *pkt)
{
        /*
         * ICMP destination host unreachable (3/1) quoting the packet. A
         * forwarded packet's error goes back to its source, as gVisor's router
         * path does (forward_host_unreachable). A packet of our own is
         * answered the way Linux's arp_error_report -> ipv4_link_failure does:
         * the error is sent to the local sender and loops back to its socket
         * (the seed reaches the same socket error through handleControl).
         */
        bool fwd = (pkt->flags & NS_PKT_F_FORWARDED) != 0;
        struct ns_icmp_reason why = { .type = NS_ICMP4_DEST_UNREACH,
                                      .code = NS_ICMP4_HOST_UNREACH,
                                      .forwarding = fwd };
        if (fwd) {
                NS_STAT_INC(&nic->stats, &p->s->stats, ip, forward_host_unreachable);
                NS_STAT_INC(&nic->stats, &p->s->stats, ip, forward_errors);
        }
        ns_pkt_set_network_header(pkt);
        (void)ns__icmp4_send_error(p, &why, pkt);
        ns_pkt_free(pkt);
}
