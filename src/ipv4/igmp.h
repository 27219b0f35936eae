/*
 * The IGMP host of one IPv4 endpoint (igmp.c): group membership with join
 * counts, the IGMPv1/v2 state machine of RFC 2236 as gVisor's igmp.go and
 * generic_multicast_protocol.go run it, and the IGMPv3 host of RFC 3376
 * with the compatibility modes of its section 7. igmp_rx.c validates
 * received messages and calls in here.
 *
 * State is bounded (HOSTILE-INPUTS 69): at most NS_IGMP_MAX_GROUPS groups
 * per NIC, counting groups left but still sending their v3 state-change
 * retransmissions, and at most NS_IGMP_MAX_QUERY_SOURCES sources recorded
 * per pending group-and-source query response.
 */
#ifndef NS_IPV4_IGMP_H
#define NS_IPV4_IGMP_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/addr.h>

#include "core/timer.h"

/** Most multicast groups one endpoint holds state for. */
#define NS_IGMP_MAX_GROUPS 64

/** Most queried sources remembered for one group's pending response. */
#define NS_IGMP_MAX_QUERY_SOURCES 16

struct ns_ipv4_ep;
struct ns_pkt;

/** Stack-wide settings (include/netstack/igmp.h). */
struct ns_igmp_cfg {
        bool enabled;
        uint8_t version;           /* 1..3 */
        uint8_t unsolicited_count; /* v1/v2 reports per join */
        uint8_t robustness;        /* v3 state-change transmissions */
        uint32_t v2_interval_ms;
        uint32_t v3_interval_ms;
};

/** One group slot. A slot is in use while joins > 0 or change_left > 0. */
struct ns_igmp_group {
        struct ns_ipv4_ep *ep;
        ns_ip4 addr;
        /** Local joins (two joins need two leaves); 0 while only leaving. */
        uint32_t joins;
        /** v1/v2: we sent the last report heard (RFC 2236 section 6). */
        bool last_reporter;
        /** v1/v2: reports still to send from report_timer. */
        uint8_t tx_left;
        /** v3: state-change transmissions still to send, and their record type. */
        uint8_t change_left;
        uint8_t change_type;
        /** v3: a group(-and-source) query response is pending on report_timer. */
        bool query_pending;
        /** v3: the pending response covers the whole group (no source list). */
        bool query_all;
        uint8_t n_qsrc;
        ns_ip4 qsrc[NS_IGMP_MAX_QUERY_SOURCES];
        /** v1/v2 delayed report, or v3 query response. */
        struct ns_timer report_timer;
        /** v3 state-change retransmission. */
        struct ns_timer change_timer;
};

/** Per-endpoint IGMP state, embedded in struct ns_ipv4_ep. */
struct ns_igmp_ep {
        struct ns_igmp_group groups[NS_IGMP_MAX_GROUPS];
        /** Running while an IGMPv1 / IGMPv2 querier was heard lately. */
        struct ns_timer v1_timer;
        struct ns_timer v2_timer;
        /** v3: the pending response to a general query. */
        struct ns_timer gq_timer;
        /** Querier's Robustness Variable and Query Interval (s) heard; 0: none. */
        uint8_t qrv;
        uint32_t qi_s;
};

/** Fills the defaults (enabled, v3, Linux's timers). */
void ns__igmp_cfg_init(struct ns_igmp_cfg *cfg);

/** Prepares ep->igmp; ep->nic and ep->p must be set. */
void ns__igmp_init(struct ns_ipv4_ep *ep);

/** Cancels every timer of ep (before ep is freed). */
void ns__igmp_fini(struct ns_ipv4_ep *ep);

/**
 * The seed's joinGroup: counts the join and, for a first join, reports it
 * when IGMP runs. NS_ERR_BAD_ADDRESS for a non-multicast group,
 * NS_ERR_NO_BUFFER_SPACE when NS_IGMP_MAX_GROUPS are held.
 */
int ns__igmp_join(struct ns_ipv4_ep *ep, ns_ip4 group);

/** The seed's leaveGroup. NS_ERR_BAD_LOCAL_ADDRESS when not joined. */
int ns__igmp_leave(struct ns_ipv4_ep *ep, ns_ip4 group);

/** The seed's isInGroup: joined locally (not merely still leaving). */
bool ns__igmp_in_group(const struct ns_ipv4_ep *ep, ns_ip4 group);

/** The seed's initializeAll: every joined group reported as if newly joined. */
void ns__igmp_initialize_all(struct ns_ipv4_ep *ep);

/** The seed's softLeaveAll: groups left towards routers, kept locally. */
void ns__igmp_soft_leave_all(struct ns_ipv4_ep *ep);

/** The seed's resetV1Present, for v2 querier state and learned QRV/QQI too. */
void ns__igmp_reset_queriers(struct ns_ipv4_ep *ep);

/** The seed's sendQueuedReports: reports that waited for an address go now. */
void ns__igmp_send_queued(struct ns_ipv4_ep *ep);

/** A query as igmp_rx.c decoded it. */
struct ns_igmp_query {
        /** 1, 2 or 3 by RFC 3376 section 7.1 (length and Max Resp). */
        uint8_t version;
        ns_ip4 group;
        /** Max Resp Time in nanoseconds; 0 means at once (v3 code 0). */
        int64_t max_resp_ns;
        /** v3 only: QRV, QQI in seconds (0: not given), sources. */
        uint8_t qrv;
        uint32_t qqi_s;
        uint16_t nsources;
        const uint8_t *sources; /* nsources * 4 bytes, network order */
};

/** A valid query arrived on ep. */
void ns__igmp_on_query(struct ns_ipv4_ep *ep, const struct ns_igmp_query *q);

/** Another host's v1/v2 report for group arrived on ep (suppression). */
void ns__igmp_on_report(struct ns_ipv4_ep *ep, ns_ip4 group);

/** Received IGMP (igmp_rx.c). Consumes pkt. */
void ns__igmp_handle(struct ns_ipv4_ep *ep, struct ns_pkt *pkt);

#endif
