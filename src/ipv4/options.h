/*
 * IPv4 option processing (RFC 791 section 3.1): the seed's processIPOptions
 * with handleTimestamp and handleRecordRoute, as one pure function over the
 * option bytes. It knows no stack, packet, clock or NIC: the caller picks
 * the address to record and the timestamp to write, and turns a problem
 * into an ICMP Parameter Problem (RFC 792) and a malformed-packet counter.
 *
 * Policy per usage (the seed's four optionsUsage):
 *
 *   usage    Timestamp  Record Route  any other option
 *   VERIFY   verify     verify        remove
 *   RECEIVE  process    process       pass
 *   FORWARD  process    process       pass
 *   ECHO     process    process       remove
 *
 * "verify" checks the option and copies it unchanged; "process" checks it
 * and records into the copy; "pass" copies without looking inside; "remove"
 * leaves it out. NOPs are always copied; EOL is copied and ends the area.
 * Router Alert (148), LSRR (131) and SSRR (137) are "other" options here,
 * as in the seed, Router Alert only counted apart (as later gVisor does):
 * source routes are never honoured (nothing reads their route), and
 * FORWARD and RECEIVE would pass them along unchanged; but the receive and
 * forward paths drop source-routed packets before calling this, as Linux
 * does by default (ns__ipv4_drop_source_routed(); HOSTILE-INPUTS 20,
 * CVE-2021-24074).
 */
#ifndef NS_IPV4_OPTIONS_H
#define NS_IPV4_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/addr.h>

/* The scenario an option area is processed for (the seed's optionsUsage). */
enum ns_opt_usage {
        NS_OPT_USAGE_VERIFY,  /* fragments before reassembly: check only */
        NS_OPT_USAGE_RECEIVE, /* local delivery to a transport (not echo) */
        NS_OPT_USAGE_FORWARD, /* a packet about to be forwarded */
        NS_OPT_USAGE_ECHO,    /* the options of an ICMP echo reply */
};

/*
 * Why the option area is rejected. pointer is a byte offset from the start
 * of the IP header (options start at 20), the value an ICMP Parameter
 * Problem carries. need_icmp false means drop silently: the caller sends
 * no ICMP and, as the seed, bumps no malformed counter.
 */
struct ns_opt_problem {
        bool present;
        bool need_icmp;
        uint8_t pointer;
};

/* What the caller knows about the packet and the stack; see the function. */
struct ns_opt_ctx {
        /*
         * Address recorded by Record Route and Timestamp flag 1, and matched
         * by Timestamp flag 3: the NIC's main address, else the packet's
         * destination (the seed's choice; gVisor issue 4586 notes that a
         * router may want the egress address instead).
         */
        ns_ip4 local_addr;
        /*
         * false when the NIC has no main address and the destination is
         * broadcast or multicast: the seed then rejects any option area,
         * before looking at it, with need_icmp false and pointer 0.
         */
        bool have_local_addr;
        /*
         * Milliseconds since midnight UT (RFC 791 "Internet Timestamp"),
         * from the stack's wall clock; written in network order.
         */
        uint32_t ts_ms;
        /*
         * Options seen, by kind, for the caller to add to the seed's
         * OptionTSReceived, OptionRRReceived, OptionRouterAlertReceived
         * (later gVisor's) and OptionUnknownReceived:
         * bumped once per option of that kind reached, whatever the usage,
         * before the option is checked. A repeated option is not counted.
         * Accumulated: the function never clears them.
         */
        struct {
                uint64_t ts, rr, ra, unknown;
        } seen;
};

/*
 * Processes the in_len option bytes at in (the bytes after the 20-byte
 * fixed header; at most 40, longer areas are read only to byte 40) for
 * usage, and writes the replacement option area to out.
 *
 * out must have room for in_len bytes and must not overlap in. On success
 * every one of those bytes is written: the replacement options, then zeros
 * (EOL, RFC 791 "the padding is zero") up to in_len, so the caller may copy
 * all in_len bytes back over the header's options. *out_len is the length
 * of the replacement rounded up to a multiple of 4 (never above in_len).
 * VERIFY output differs from the input only by removed options: unlike the
 * seed, which bumps a timestamp overflow counter in a copy it then throws
 * away, nothing inside a Timestamp or Record Route option is changed.
 *
 * Returns true on success with prob->present false. Returns false with
 * *prob filled when the area is rejected: the option problem rules are
 * those of RFC 791 as gVisor and Linux apply them (duplicates, malformed
 * lengths, bad pointers, a full overflow counter, partial room), with the
 * pointers gVisor's TestIPv4Sanity expects. *out_len is then 0 and out
 * holds nothing useful. Any byte sequence is safe to pass: it is
 * processed or rejected, never read past in_len (or 40) bytes.
 */
bool ns__ipv4_process_options(const uint8_t *in, size_t in_len, enum ns_opt_usage usage,
                              struct ns_opt_ctx *ctx, uint8_t *out, size_t *out_len,
                              struct ns_opt_problem *prob);

#endif
