/**
 * @file
 * IGMP host settings (RFC 1112, RFC 2236, RFC 3376). The IPv4 module runs
 * the host side of IGMP on every NIC but loopback: joining a group with
 * ns_ipv4_join_group() reports it, leaving sends a Leave (v2) or a
 * state-change report (v3), and queries are answered. IGMPv3 is the
 * default, falling back to v2 or v1 while an older querier is heard (RFC
 * 3376 section 7), as Linux does. The settings are per stack and apply to
 * every NIC.
 */
#ifndef NETSTACK_IGMP_H
#define NETSTACK_IGMP_H

#include <stdint.h>

#include <netstack/export.h>
#include <netstack/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

/** IGMP settings, read and written with ns_igmp_set_param(). */
enum ns_igmp_param {
        /**
         * Perform IGMP (0/1, default 1, as Linux; gVisor defaults to off).
         * Off, groups are still joined locally and multicast still
         * delivered, but nothing is sent and received IGMP only counted.
         * Switching it off leaves every group as when the NIC goes down.
         */
        NS_IGMP_PARAM_ENABLED = 1,
        /**
         * Highest version spoken, 1..3 (default 3; Linux's
         * force_igmp_version with 0 meaning 3). An older querier lowers the
         * version used for as long as it is heard.
         */
        NS_IGMP_PARAM_VERSION,
        /**
         * Reports sent on a join in v1/v2 mode, 1..10 (default 2, gVisor's
         * unsolicitedTransmissionCount and RFC 2236 section 3's "repeated
         * once or twice").
         */
        NS_IGMP_PARAM_UNSOLICITED_REPORT_COUNT,
        /**
         * Most milliseconds between two unsolicited v1/v2 reports, 0..3600000
         * (default 10000, RFC 2236 section 8.10).
         */
        NS_IGMP_PARAM_V2_UNSOLICITED_REPORT_INTERVAL_MS,
        /**
         * Most milliseconds between two transmissions of a v3 state-change
         * report, 0..3600000 (default 1000, RFC 3376 section 8.11).
         */
        NS_IGMP_PARAM_V3_UNSOLICITED_REPORT_INTERVAL_MS,
        /**
         * Robustness Variable, 1..7 (default 2, RFC 3376 section 8.1): how
         * many times a v3 state-change report is sent. A querier's non-zero
         * QRV replaces it on the NIC that heard it, as Linux does.
         */
        NS_IGMP_PARAM_ROBUSTNESS,
};

/**
 * Sets an IGMP setting. NS_ERR_UNKNOWN_PROTOCOL_OPTION for an unknown one,
 * NS_ERR_INVALID_ARGUMENT for a value out of range,
 * NS_ERR_INVALID_ENDPOINT_STATE when the IPv4 module is not attached.
 */
NS_API int ns_igmp_set_param(struct ns_stack *s, enum ns_igmp_param p, int64_t value);

/** Reads an IGMP setting into *value; errors as ns_igmp_set_param(). */
NS_API int ns_igmp_get_param(const struct ns_stack *s, enum ns_igmp_param p, int64_t *value);

#ifdef __cplusplus
}
#endif

#endif
