/*
 * Received IGMP: validated read-only and counted by type. Membership
 * reporting (RFC 1112/2236/3376 host state machines) is the [igmp] issue's.
 */
#include "ipv4/ipv4.h"
#include "wire/igmp.h"
#include "wire/ipv4.h"

#define EPS(ep) (&(ep)->nic->stats)
#define SS(ep)  (&(ep)->p->s->stats)

void ns__igmp_handle(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        const uint8_t *h = ns_pkt_data(pkt);
        size_t hlen = ns_ipv4_hdr_len(h);
        const uint8_t *m = h + hlen;
        size_t len = ns_pkt_len(pkt) - hlen;
        enum ns_igmp_invalid why = ns_igmp_validate(m, len);
        if (why == NS_IGMP_BAD_CHECKSUM) {
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_checksum_errors);
        } else if (why != NS_IGMP_VALID) {
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_invalid);
        } else {
                switch (ns_igmp_type(m)) {
                case 0x11:
                        NS_STAT_INC(EPS(ep), SS(ep), igmp, received_membership_query);
                        break;
                case 0x12:
                        NS_STAT_INC(EPS(ep), SS(ep), igmp, received_v1_membership_report);
                        break;
                case 0x16:
                        NS_STAT_INC(EPS(ep), SS(ep), igmp, received_v2_membership_report);
                        break;
                case 0x17:
                        NS_STAT_INC(EPS(ep), SS(ep), igmp, received_leave_group);
                        break;
                case 0x22:
                        NS_STAT_INC(EPS(ep), SS(ep), igmp, received_v3_membership_report);
                        break;
                default:
                        NS_STAT_INC(EPS(ep), SS(ep), igmp, received_unrecognized);
                        break;
                }
        }
        ns_pkt_free(pkt);
}
