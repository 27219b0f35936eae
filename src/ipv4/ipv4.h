/*
 * Internal state of the IPv4 module, shared by its files: the protocol
 * (one per stack) and the endpoint (one per NIC), after the seed's
 * `protocol` and `endpoint` types.
 */
#ifndef NS_IPV4_IPV4_H
#define NS_IPV4_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/ipv4.h>

#include "core/stack.h"
#include "core/timer.h"
#include "ipv4/igmp.h"
#include "ipv4/options.h"
#include "ipv4/pmtu.h"

/** Identifier buckets (the seed's `buckets`, RFC 6864 per-flow counters). */
#define NS_IPV4_ID_BUCKETS 2048

/** Bytes reserved in front of packets the stack builds, for link headers. */
#define NS_IPV4_TX_HEADROOM 128

struct ns_reasm;

/** The IPv4 protocol of one stack. */
struct ns_ipv4 {
        struct ns_stack *s;
        unsigned slot; /* index of our endpoints in nic->ep[] */
        uint8_t default_ttl;
        bool forwarding;
        bool echo_ignore_broadcasts;
        /** Forward directed broadcasts (RFC 2644: off by default; Linux bc_forwarding). */
        bool directed_broadcast;
        uint32_t hash_iv;
        struct ns_reasm *reasm;
        struct ns_timer reasm_timer;
        struct ns_igmp_cfg igmp;
        uint32_t ids[NS_IPV4_ID_BUCKETS];
        /** Path MTUs learnt from fragmentation-needed (pmtu.h). */
        struct ns_pmtu pmtu;
};

/** The IPv4 endpoint of one NIC. */
struct ns_ipv4_ep {
        struct ns_nic *nic;
        struct ns_ipv4 *p;
        bool enabled;
        /** Multicast groups and the IGMP host (igmp.h). */
        struct ns_igmp_ep igmp;
};

/** Header fields a transport asks for when sending (the seed's NetworkHeaderParams). */
struct ns_ipv4_params {
        uint8_t proto;
        uint8_t ttl;
        uint8_t tos;
        /** Optional options to send (RR, TS, Router Alert), at most 40 bytes. */
        const uint8_t *options;
        uint8_t options_len;
};

static inline struct ns_ipv4 *ns__ipv4_of(const struct ns_stack *s)
{
        return (struct ns_ipv4 *)s->ipv4;
}

static inline struct ns_ipv4_ep *ns__ipv4_ep(const struct ns_ipv4 *p, const struct ns_nic *nic)
{
        return (struct ns_ipv4_ep *)nic->ep[p->slot];
}

/* ---- send (ipv4_tx.c) ---- */

/**
 * Next IP ID for (src, dst, proto): the seed's hashed per-bucket counters
 * seeded from the RNG (RFC 6864 section 4).
 */
uint16_t ns__ipv4_next_id(struct ns_ipv4 *p, ns_ip4 src, ns_ip4 dst, uint8_t proto);

/**
 * The seed's calculateNetworkMTU: the payload room after a header of
 * hdr_len bytes on a link of link_mtu. NS_ERR_INVALID_ENDPOINT_STATE when
 * the link MTU is below 68 (RFC 791), NS_ERR_MALFORMED_HEADER when the
 * header exceeds 60 bytes.
 */
int ns__ipv4_network_mtu(uint32_t link_mtu, uint32_t hdr_len, uint32_t *out);

/**
 * Sends pkt (data = transport header and payload) along path: adds the IPv4
 * header, runs the OUTPUT hook, loops a copy back when the path says so,
 * fragments to the path MTU, and writes to the NIC. Consumes pkt. Returns 0
 * (also when a filter dropped it) or a negative ns_err.
 */
int ns__ipv4_write_packet(struct ns_ipv4 *p, const struct ns_path *path,
                          const struct ns_ipv4_params *params, struct ns_pkt *pkt);

/**
 * Sends a batch (the seed's WritePackets): every packet gets a header,
 * oversize ones are replaced by their fragments in place, the OUTPUT hook
 * removes dropped ones, and the rest go to the NIC as one list. Consumes
 * every packet. Returns the number handled (sent, looped or filtered) or a
 * negative ns_err when none was.
 */
int ns__ipv4_write_packets(struct ns_ipv4 *p, const struct ns_path *path,
                           const struct ns_ipv4_params *params, struct ns_pkt_list *pkts);

/**
 * Sends a packet whose data starts with a caller-built IPv4 header (raw
 * sockets with IP_HDRINCL; the seed's WriteHeaderIncludedPacket): total
 * length, checksum and destination are always set, source and ID when zero;
 * malformed headers are refused. Consumes pkt.
 */
int ns__ipv4_write_header_included(struct ns_ipv4 *p, const struct ns_path *path,
                                   struct ns_pkt *pkt);

/**
 * Sends a complete IPv4 packet (data at its header, checksum valid) out of
 * nic towards next_hop: POSTROUTING, MTU and fragmentation, link. For
 * forwarded packets. Consumes pkt.
 */
int ns__ipv4_output(struct ns_ipv4 *p, struct ns_nic *nic, uint32_t mtu, ns_ip4 next_hop,
                    struct ns_pkt *pkt);

/* ---- receive (ipv4_rx.c) ---- */

/** The seed's HandlePacket: a packet from the NIC. Consumes pkt. */
void ns__ipv4_deliver(void *ctx, struct ns_nic *nic, struct ns_pkt *pkt);

/**
 * The seed's handleLocalPacket: a packet this host sent to itself
 * (data at the IPv4 header). csum_ok skips transport checksum checks.
 * Consumes pkt.
 */
void ns__ipv4_handle_local(struct ns_ipv4_ep *ep, struct ns_pkt *pkt, bool csum_ok);

/**
 * The seed's handlePacket: validated-by-parse packet at the IPv4 header,
 * after PREROUTING. Consumes pkt.
 */
void ns__ipv4_handle_packet(struct ns_ipv4_ep *ep, struct ns_pkt *pkt);

/* ---- multicast membership (ipv4_proto.c) ---- */

bool ns__ipv4_in_group(const struct ns_ipv4_ep *ep, ns_ip4 group);

/* ---- ICMP (icmp.c) ---- */

/** An ICMP error to send about a received packet (the seed's icmpReason*). */
struct ns_icmp_reason {
        uint8_t type;
        uint8_t code;
        /** Parameter problem pointer, or next-hop MTU for fragmentation needed. */
        uint32_t arg;
        /** The packet was being forwarded: the source comes from the route. */
        bool forwarding;
};

/** Handles an ICMPv4 packet addressed to us (data at the IPv4 header). Consumes pkt. */
void ns__icmp4_handle(struct ns_ipv4_ep *ep, struct ns_pkt *pkt);

/**
 * Sends an ICMP error about `orig` (borrowed; data at its IPv4 header, as
 * received), with every suppression rule of the seed's returnError and RFC
 * 1122/1812, and the rate limiter. Returns 0 when sent or suppressed.
 */
int ns__icmp4_send_error(struct ns_ipv4 *p, const struct ns_icmp_reason *why,
                         const struct ns_pkt *orig);

/**
 * A packet that waited for a next hop ARP never resolved (the seed's
 * HandleLinkResolutionFailure; link_resolution.c): ICMP destination host
 * unreachable quoting it, to the local sender or, when it was being
 * forwarded, to its source. Consumes pkt.
 */
void ns__ipv4_link_resolution_failed(struct ns_ipv4 *p, struct ns_nic *nic, struct ns_pkt *pkt);

/* ---- the rest of the receive path ---- */

struct ns_opt_ctx;

/** Fills an option context for a packet received on ep (local address, time). */
void ns__ipv4_opt_ctx_init(struct ns_opt_ctx *ctx, struct ns_ipv4_ep *ep, const struct ns_pkt *pkt);

/**
 * Processes the options of pkt (borrowed; network header marked) for
 * `usage` into out (room for the header's option bytes): counts them and,
 * on a bad option, sends the seed's parameter problem (marked as
 * forwarding when asked) and returns false -- the caller drops the packet.
 */
bool ns__ipv4_options_run(struct ns_ipv4_ep *ep, const struct ns_pkt *pkt, enum ns_opt_usage usage,
                          bool forwarding, uint8_t *out, size_t *out_len);

/** Milliseconds since midnight UT from the stack's wall clock. */
uint32_t ns__ipv4_ms_since_midnight(const struct ns_stack *s);

/**
 * ns__ipv4_options_run() recording `record_addr` (Record Route, Timestamp
 * with addresses, and the address prespecified timestamps match) instead
 * of the receiving NIC's: a router records the address of the interface a
 * datagram leaves by (RFC 791, RFC 1812 5.2.1). 0 means the NIC's.
 */
bool ns__ipv4_options_run_from(struct ns_ipv4_ep *ep, const struct ns_pkt *pkt,
                               enum ns_opt_usage usage, bool forwarding, ns_ip4 record_addr,
                               uint8_t *out, size_t *out_len);

/** What ns__ipv4_drop_source_routed() did with a packet. */
enum ns_srr_verdict {
        NS_SRR_NONE = 0,     /* no source route: the caller goes on with pkt */
        NS_SRR_DROPPED = 1,  /* source-routed: freed, source_route_dropped counted */
        NS_SRR_BAD_OPTS = -1 /* bad option area: parameter problem sent, freed */
};

/**
 * Linux's accept_source_route=0 (ip_rcv_options), its default: a packet
 * carrying Loose or Strict Source Route (RFC 791) is dropped, whether it is
 * for us or to forward (HOSTILE-INPUTS 20: CVE-2021-24074, Treck
 * CVE-2020-11897/11909). As Linux compiles the option area before it looks
 * at the source route, a bad area still gets its Parameter Problem (marked
 * as forwarding when asked). pkt (network header marked) is consumed unless
 * NS_SRR_NONE is returned.
 */
enum ns_srr_verdict ns__ipv4_drop_source_routed(struct ns_ipv4_ep *ep, struct ns_pkt *pkt,
                                                bool forwarding);

/* ---- forwarding (forward.c) ---- */

/**
 * The seed's forwardPacket completed to RFC 1812 as Linux forwards: a
 * validated packet not addressed to ep's NIC, with forwarding on for the
 * protocol. Consumes pkt.
 */
void ns__ipv4_forward(struct ns_ipv4_ep *ep, struct ns_pkt *pkt);

/**
 * The forwarding and path-MTU parameters of ns_ipv4_set_param() and
 * ns_ipv4_get_param() (the module's switch passes what it does not know).
 */
int ns__ipv4_forward_set_param(struct ns_ipv4 *p, enum ns_ipv4_param param, int64_t v);
int ns__ipv4_forward_get_param(const struct ns_ipv4 *p, enum ns_ipv4_param param, int64_t *v);

/**
 * A fragmentation-needed reporting `reported` bytes arrived quoting a
 * datagram from src to dst: returns the MTU after Linux's floor, and
 * remembers it for dst when src is one of our addresses (a datagram we
 * sent), so the send path fragments to it (icmp.c calls this).
 */
uint32_t ns__ipv4_pmtu_learn(struct ns_ipv4 *p, ns_ip4 src, ns_ip4 dst, uint32_t reported);

/**
 * The MTU a locally generated datagram to dst is fragmented to: the
 * route's, or a smaller learnt path MTU. One slot compare when the cache
 * holds anything, nothing more when it is empty.
 */
static inline uint32_t ns__ipv4_path_mtu(struct ns_ipv4 *p, ns_ip4 dst, uint32_t route_mtu)
{
        if (p->pmtu.used == 0)
                return route_mtu;
        uint32_t m = ns__pmtu_get(&p->pmtu, dst, ns__stack_now(p->s));
        return m && m < route_mtu ? m : route_mtu;
}

/** Reassembly glue (reasm_glue.c): create, destroy, (re)arm the expiry timer. */
int ns__ipv4_reasm_init(struct ns_ipv4 *p);
void ns__ipv4_reasm_fini(struct ns_ipv4 *p);
void ns__ipv4_reasm_arm(struct ns_ipv4 *p);

#endif
