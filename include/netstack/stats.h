/**
 * @file
 * Counters.
 *
 * Every drop, delivery and transmission the stack performs bumps one named
 * counter here (DESIGN.md, "Bad input is counted, never fatal"). The names
 * are the seed's (gVisor's tcpip.Stats fields, in snake_case) and double as
 * the JSON keys; beside each one is the Linux SNMP MIB name it corresponds
 * to (include/uapi/linux/snmp.h, as shown by `nstat` and /proc/net/snmp),
 * or "" when Linux has no equivalent.
 *
 * A struct ns_stats is plain data: one struct per group of uint64_t
 * fields, generated from the X-macro lists below, so a caller may read any
 * counter directly (s.ip.packets_received), copy the struct, or walk it by
 * name. The stack keeps one for itself and one per network endpoint and
 * copies them out on request; nothing here is atomic (DESIGN.md, "One owner
 * per stack").
 *
 * Each list entry is X(field, "MibName"). A list never reorders or removes
 * an entry once released; new counters are appended.
 */
#ifndef NETSTACK_STATS_H
#define NETSTACK_STATS_H

#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * IPv4 (the seed's IPStats, tcpip.IPStats and IPForwardingStats, plus the
 * reassembly and fragmentation counters of RFC 4293 that Linux keeps).
 * Where a counter is documented as "also counted in X", the receive path
 * bumps both, as the seed does for malformed fragments.
 */
#define NS_STATS_IP(X)                                                              \
        /* Every packet handed to IPv4 by a NIC, before any check. */               \
        X(packets_received, "InReceives")                                           \
        /* Packets that passed header validation. */                                \
        X(valid_packets_received, "")                                               \
        /* Received while the endpoint was disabled. */                             \
        X(disabled_packets_received, "")                                            \
        /* Not for us and not forwardable (forwarding off, bad destination). */     \
        X(invalid_destination_addresses_received, "InAddrErrors")                   \
        /* Source is multicast, broadcast or otherwise invalid (RFC 1812 5.3.7). */ \
        X(invalid_source_addresses_received, "")                                    \
        /* Source is one of our own addresses on a packet that did not loop. */     \
        X(own_source_dropped, "")                                                   \
        /* Source or destination in 127/8 arriving on a non-loopback NIC. */        \
        X(martian_loopback_dropped, "")                                             \
        /* Handed to a transport protocol or to ICMP/IGMP. */                       \
        X(packets_delivered, "InDelivers")                                          \
        /* Locally generated packets handed to a NIC (each fragment counts). */     \
        X(packets_sent, "OutRequests")                                              \
        /* Locally generated packets that could not be sent. */                     \
        X(outgoing_packet_errors, "OutDiscards")                                    \
        /* Locally generated packets with no route. */                              \
        X(out_no_routes, "OutNoRoutes")                                             \
        /* Bad header (length, version, IHL, options, checksum). */                 \
        X(malformed_packets_received, "InHdrErrors")                                \
        /* Header checksum errors; also counted in malformed_packets_received. */   \
        X(checksum_errors_received, "InCsumErrors")                                 \
        /* Total length beyond the bytes received; also counted as malformed. */    \
        X(truncated_packets_received, "InTruncatedPkts")                            \
        /* Bad fragment; also counted in malformed_packets_received. */             \
        X(malformed_fragments_received, "")                                         \
        /* Delivered to a protocol number nobody handles. */                        \
        X(unknown_protocol_received, "InUnknownProtos")                             \
        /* No route for a packet to be forwarded (Linux counts these here). */      \
        X(in_no_routes, "InNoRoutes")                                               \
        /* Multicast and broadcast packets received and sent. */                    \
        X(multicast_packets_received, "InMcastPkts")                                \
        X(broadcast_packets_received, "InBcastPkts")                                \
        X(multicast_packets_sent, "OutMcastPkts")                                   \
        X(broadcast_packets_sent, "OutBcastPkts")                                   \
        /* Dropped by a filter hook or rule at each hook point. */                  \
        X(iptables_prerouting_dropped, "")                                          \
        X(iptables_input_dropped, "")                                               \
        X(iptables_forward_dropped, "")                                             \
        X(iptables_output_dropped, "")                                              \
        X(iptables_postrouting_dropped, "")                                         \
        /* IP options seen on received packets (RFC 791). */                        \
        X(option_timestamp_received, "")                                            \
        X(option_record_route_received, "")                                         \
        X(option_router_alert_received, "")                                         \
        X(option_unknown_received, "")                                              \
        /* Reassembly (RFC 4293 ipSystemStatsReasm*). */                            \
        X(reasm_reqds, "ReasmReqds")                                                \
        X(reasm_oks, "ReasmOKs")                                                    \
        X(reasm_fails, "ReasmFails")                                                \
        X(reasm_timeout, "ReasmTimeout")                                            \
        X(reasm_overlaps, "ReasmOverlaps")                                          \
        /* Fragmentation on send and forward. */                                    \
        X(frag_oks, "FragOKs")                                                      \
        X(frag_fails, "FragFails")                                                  \
        X(frag_creates, "FragCreates")                                              \
        /* Forwarding (the seed's IPForwardingStats; RFC 1812). */                  \
        X(forwarded, "OutForwDatagrams")                                            \
        X(forward_ttl_exceeded, "")                                                 \
        X(forward_unrouteable, "")                                                  \
        X(forward_packet_too_big, "")                                               \
        X(forward_host_unreachable, "")                                             \
        X(forward_link_local_source, "")                                            \
        X(forward_link_local_destination, "")                                       \
        X(forward_initializing_source, "")                                          \
        X(forward_martian_source, "")                                               \
        X(forward_limited_broadcast, "")                                            \
        X(forward_directed_broadcast, "")                                           \
        X(forward_multicast, "")                                                    \
        X(forward_errors, "")                                                       \
        /* Carrying Loose or Strict Source Route: dropped, for us or to forward. */ \
        X(source_route_dropped, "")

/**
 * ICMPv4 (the seed's ICMPv4SentPacketStats and ICMPv4ReceivedPacketStats,
 * flattened with sent_ and received_ prefixes, plus Linux's totals and
 * rate-limit split).
 */
#define NS_STATS_ICMP(X)                                            \
        X(sent_total, "OutMsgs")                                    \
        X(sent_echo_request, "OutEchos")                            \
        X(sent_echo_reply, "OutEchoReps")                           \
        X(sent_dst_unreachable, "OutDestUnreachs")                  \
        X(sent_src_quench, "OutSrcQuenchs")                         \
        X(sent_redirect, "OutRedirects")                            \
        X(sent_time_exceeded, "OutTimeExcds")                       \
        X(sent_param_problem, "OutParmProbs")                       \
        X(sent_timestamp, "OutTimestamps")                          \
        X(sent_timestamp_reply, "OutTimestampReps")                 \
        X(sent_info_request, "")                                    \
        X(sent_info_reply, "")                                      \
        X(sent_addr_mask_request, "OutAddrMasks")                   \
        X(sent_addr_mask_reply, "OutAddrMaskReps")                  \
        /* Could not be sent (no buffer, link error). */            \
        X(sent_dropped, "OutErrors")                                \
        /* Refused by the rate limiter, for either reason below. */ \
        X(sent_rate_limited, "")                                    \
        X(sent_rate_limited_global, "OutRateLimitGlobal")           \
        X(sent_rate_limited_host, "OutRateLimitHost")               \
        X(received_total, "InMsgs")                                 \
        X(received_echo_request, "InEchos")                         \
        X(received_echo_reply, "InEchoReps")                        \
        X(received_dst_unreachable, "InDestUnreachs")               \
        X(received_src_quench, "InSrcQuenchs")                      \
        X(received_redirect, "InRedirects")                         \
        X(received_time_exceeded, "InTimeExcds")                    \
        X(received_param_problem, "InParmProbs")                    \
        X(received_timestamp, "InTimestamps")                       \
        X(received_timestamp_reply, "InTimestampReps")              \
        X(received_info_request, "")                                \
        X(received_info_reply, "")                                  \
        X(received_addr_mask_request, "InAddrMasks")                \
        X(received_addr_mask_reply, "InAddrMaskReps")               \
        /* Too short, bad length or bad checksum. */                \
        X(received_invalid, "InErrors")                             \
        /* Bad checksum; also counted in received_invalid. */       \
        X(received_checksum_errors, "InCsumErrors")                 \
        /* A type this stack does not handle. */                    \
        X(received_unknown_type, "")

/** IGMP (the seed's IGMPSentPacketStats and IGMPReceivedPacketStats). */
#define NS_STATS_IGMP(X)                                                   \
        X(sent_membership_query, "")                                       \
        X(sent_v1_membership_report, "")                                   \
        X(sent_v2_membership_report, "")                                   \
        X(sent_v3_membership_report, "")                                   \
        X(sent_leave_group, "")                                            \
        X(sent_dropped, "")                                                \
        X(received_membership_query, "")                                   \
        X(received_v1_membership_report, "")                               \
        X(received_v2_membership_report, "")                               \
        X(received_v3_membership_report, "")                               \
        X(received_leave_group, "")                                        \
        /* Too short, bad TTL, missing Router Alert, off-subnet source. */ \
        X(received_invalid, "")                                            \
        X(received_checksum_errors, "")                                    \
        X(received_unrecognized, "")

/** ARP (the seed's ARPStats plus neighbour resolution). */
#define NS_STATS_ARP(X)                                                         \
        X(packets_received, "")                                                 \
        X(disabled_packets_received, "")                                        \
        X(malformed_packets_received, "")                                       \
        X(requests_received, "")                                                \
        X(requests_received_unknown_target_address, "")                         \
        X(replies_received, "")                                                 \
        X(outgoing_requests_sent, "")                                           \
        X(outgoing_requests_dropped, "")                                        \
        X(outgoing_request_interface_has_no_local_address_errors, "")           \
        X(outgoing_request_bad_local_address_errors, "")                        \
        X(outgoing_replies_sent, "")                                            \
        X(outgoing_replies_dropped, "")                                         \
        /* Neighbour entries that gave up (each queued packet is freed). */     \
        X(resolution_failures, "")                                              \
        /* Queued packets dropped: queue full, entry freed, or NIC disabled. */ \
        X(pending_queue_dropped, "")

/** UDP (the seed's UDPStats). */
#define NS_STATS_UDP(X)                           \
        X(packets_received, "InDatagrams")        \
        X(unknown_port_errors, "NoPorts")         \
        X(receive_buffer_errors, "RcvbufErrors")  \
        X(malformed_packets_received, "InErrors") \
        X(checksum_errors, "InCsumErrors")        \
        X(packets_sent, "OutDatagrams")           \
        X(packet_send_errors, "")

/** Per NIC (the seed's NICStats; Linux's /proc/net/dev columns). */
#define NS_STATS_NIC(X)                                   \
        X(rx_packets, "")                                 \
        X(rx_bytes, "")                                   \
        X(tx_packets, "")                                 \
        X(tx_bytes, "")                                   \
        /* Frames received while the NIC was disabled. */ \
        X(disabled_rx, "")                                \
        /* Frames whose ethertype no protocol handles. */ \
        X(unknown_l3_protocol, "")                        \
        /* Frames too short or with a bad link header. */ \
        X(malformed_l2, "")                               \
        /* Frames the link endpoint refused to send. */   \
        X(tx_errors, "")

/**
 * The groups, in JSON order: X(group, LIST). Adding a group here adds it
 * to struct ns_stats, the JSON and the walkers.
 */
#define NS_STATS_GROUPS(X)     \
        X(ip, NS_STATS_IP)     \
        X(icmp, NS_STATS_ICMP) \
        X(igmp, NS_STATS_IGMP) \
        X(arp, NS_STATS_ARP)   \
        X(udp, NS_STATS_UDP)   \
        X(nic, NS_STATS_NIC)

#define NS_STATS_FIELD_(name, mib) uint64_t name;

/** IPv4 counters. */
struct ns_ip_stats {
        NS_STATS_IP(NS_STATS_FIELD_)
};

/** ICMPv4 counters. */
struct ns_icmp_stats {
        NS_STATS_ICMP(NS_STATS_FIELD_)
};

/** IGMP counters. */
struct ns_igmp_stats {
        NS_STATS_IGMP(NS_STATS_FIELD_)
};

/** ARP counters. */
struct ns_arp_stats {
        NS_STATS_ARP(NS_STATS_FIELD_)
};

/** UDP counters. */
struct ns_udp_stats {
        NS_STATS_UDP(NS_STATS_FIELD_)
};

/** Link-level counters. */
struct ns_nic_stats {
        NS_STATS_NIC(NS_STATS_FIELD_)
};

#undef NS_STATS_FIELD_

/** Every counter; zero-initialised means all zero. */
struct ns_stats {
        struct ns_ip_stats ip;     /**< IPv4: NS_STATS_IP */
        struct ns_icmp_stats icmp; /**< ICMPv4: NS_STATS_ICMP */
        struct ns_igmp_stats igmp; /**< IGMP: NS_STATS_IGMP */
        struct ns_arp_stats arp;   /**< ARP: NS_STATS_ARP */
        struct ns_udp_stats udp;   /**< UDP: NS_STATS_UDP */
        struct ns_nic_stats nic;   /**< links, summed over NICs: NS_STATS_NIC */
};

/** Adds every counter of src to the same counter of dst (wrapping mod 2^64). */
NS_API void ns_stats_add(struct ns_stats *dst, const struct ns_stats *src);

/**
 * Callback of ns_stats_foreach(): group ("ip"), counter name
 * ("packets_received"), Linux MIB name ("InReceives", or "" when there is
 * none) and value. The strings are static.
 */
typedef void (*ns_stats_visit_fn)(const char *group, const char *name, const char *mib,
                                  uint64_t value, void *ctx);

/**
 * Calls cb once for every counter of s, group by group in the order of
 * NS_STATS_GROUPS and within a group in list order.
 */
NS_API void ns_stats_foreach(const struct ns_stats *s, ns_stats_visit_fn cb, void *ctx);

/**
 * Writes s as one line of JSON, {"ip":{"packets_received":N,...},...}, to
 * buf, NUL-terminated and truncated to cap bytes when it does not fit
 * (as snprintf does; buf may be NULL when cap is 0). Returns the length of
 * the whole text without its NUL, so a caller can size a buffer with a
 * first call of cap 0.
 */
NS_API size_t ns_stats_to_json(const struct ns_stats *s, char *buf, size_t cap);

/**
 * Returns the counter named "group.name" ("ip.packets_received") in s, or
 * NULL when there is no such counter. Exact, case-sensitive match.
 */
NS_API const uint64_t *ns_stats_find(const struct ns_stats *s, const char *dotted);

/** The number of counters in a struct ns_stats. */
NS_API size_t ns_stats_count(void);

#ifdef __cplusplus
}
#endif

#endif
