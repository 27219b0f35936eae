/*
 * Received IGMP (gVisor's handleIGMP, RFC 2236 section 2 and RFC 3376
 * section 4): length, checksum (read only, HOSTILE-INPUTS 68), structure,
 * then TTL 1 and the source rules of RFC 2236 section 10; what passes goes
 * to the host state machine in igmp.c. Every message bumps the counter of
 * its type; a bad one bumps an error counter instead or as well, as the
 * seed's stats do.
 *
 * Unlike gVisor, a message without the Router Alert option is accepted:
 * RFC 2236 section 2 says messages are *sent* with it, and Linux's igmp_rcv
 * never asks for it; requiring it made hosts deaf to some queriers.
 */
#include "ipv4/igmp.h"
#include "ipv4/ipv4.h"
#include "wire/igmp.h"
#include "wire/ipv4.h"

#define EPS(ep) (&(ep)->nic->stats)
#define SS(ep)  (&(ep)->p->s->stats)

/* Max Resp Time and Max Resp Code count tenths of a second. */
#define NS_PER_DECISECOND 100000000LL

/*
 * RFC 2236 section 10 (gVisor's isSourceIPValidLocked): ignore a report or
 * leave unless its source lies in a subnet of one of the NIC's addresses.
 * Queries may come from anywhere, 0.0.0.0 included (RFC 3376 4.1.12 lets
 * queriers without an address send them).
 */
static bool source_ok(const struct ns_ipv4_ep *ep, ns_ip4 src, uint8_t type)
{
        if (type == NS_IGMP_QUERY)
                return true;
        struct ns_ip4_prefix addrs[NS_ADDR_MAX_ENTRIES];
        size_t n = ns__addr_primary_list(&ep->nic->addrs, addrs, NS_ADDR_MAX_ENTRIES);
        for (size_t i = 0; i < n; i++)
                if (addrs[i].prefix_len > 0 && ns_ip4_prefix_contains(addrs[i], src))
                        return true;
        return false;
}

/* Counts a structurally valid message by type; false for unknown types. */
static bool count_type(struct ns_ipv4_ep *ep, uint8_t type)
{
        switch (type) {
        case NS_IGMP_QUERY:
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_membership_query);
                return true;
        case NS_IGMP_V1_REPORT:
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_v1_membership_report);
                return true;
        case NS_IGMP_V2_REPORT:
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_v2_membership_report);
                return true;
        case NS_IGMP_LEAVE:
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_leave_group);
                return true;
        case NS_IGMP_V3_REPORT:
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_v3_membership_report);
                return true;
        default:
                /* RFC 2236 2.1: unrecognized types are silently ignored. */
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_unrecognized);
                return false;
        }
}

/* Decodes a query of len bytes (validated) for igmp.c. */
static void handle_query(struct ns_ipv4_ep *ep, const uint8_t *m, size_t len)
{
        struct ns_igmp_query q = { .group = ns_igmp_group(m) };
        uint8_t code = ns_igmp_max_resp(m);
        switch (ns_igmp_query_version(len, code)) {
        case NS_IGMP_QUERY_V1:
                q.version = 1; /* igmp.c applies RFC 2236's 10 s */
                break;
        case NS_IGMP_QUERY_V2:
                q.version = 2;
                q.max_resp_ns = code * NS_PER_DECISECOND;
                break;
        case NS_IGMP_QUERY_V3:
                q.version = 3;
                /* Code 0 decodes to 0: respond at once; never a divisor
                 * (CVE-2012-0207, HOSTILE-INPUTS 66). */
                q.max_resp_ns = (int64_t)ns_igmpv3_decode_code(code) * NS_PER_DECISECOND;
                q.qrv = ns_igmpv3_query_qrv(m);
                q.qqi_s = ns_igmpv3_decode_code(ns_igmpv3_query_qqic(m));
                q.nsources = ns_igmpv3_query_nsources(m);
                q.sources = m + NS_IGMPV3_QUERY_MIN;
                break;
        default:
                return; /* validate() refused these lengths already */
        }
        ns__igmp_on_query(ep, &q);
}

void ns__igmp_handle(struct ns_ipv4_ep *ep, struct ns_pkt *pkt)
{
        const uint8_t *h = ns_pkt_data(pkt);
        size_t hlen = ns_ipv4_hdr_len(h);
        const uint8_t *m = h + hlen;
        size_t len = ns_pkt_len(pkt) - hlen;
        if (len < NS_IGMP_LEN) {
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_invalid);
        } else if (!ns_igmp_checksum_ok(m, len)) {
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_checksum_errors);
        } else if (ns_igmp_validate(m, len) != NS_IGMP_VALID) {
                NS_STAT_INC(EPS(ep), SS(ep), igmp, received_invalid);
        } else if (count_type(ep, ns_igmp_type(m))) {
                uint8_t type = ns_igmp_type(m);
                /* RFC 2236 section 2 / RFC 3376 section 4: sent with TTL 1
                 * (HOSTILE-INPUTS 67). */
                if (ns_ipv4_ttl(h) != 1 || !source_ok(ep, ns_ipv4_src(h), type)) {
                        NS_STAT_INC(EPS(ep), SS(ep), igmp, received_invalid);
                } else if (type == NS_IGMP_QUERY) {
                        handle_query(ep, m, len);
                } else if (type == NS_IGMP_V1_REPORT || type == NS_IGMP_V2_REPORT) {
                        ns__igmp_on_report(ep, ns_igmp_group(m));
                }
                /* Leaves and v3 reports matter to routers only (RFC 2236 6). */
        }
        ns_pkt_free(pkt);
}
