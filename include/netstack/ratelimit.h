/**
 * @file
 * Limits on the ICMP errors a stack sends: a global token bucket (the
 * seed's 1000/s, burst 50) and, as Linux does (icmpv4_xrlim_allow), a
 * per-destination bucket for the types in `mask`. Pass one in
 * ns_stack_config.icmp_ratelimit; NULL takes the defaults.
 */
#ifndef NETSTACK_RATELIMIT_H
#define NETSTACK_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/export.h>

/** ICMP rate limits; zero-initialise and fill, or start from the defaults. */
struct ns_icmp_ratelimit_config {
        /** Messages per second over all destinations; 0 = unlimited (default 1000). */
        uint32_t global_rate;
        /** Messages the global bucket holds (default 50). */
        uint32_t global_burst;
        /** Messages per destination per second; 0 = unlimited (default 1). */
        uint32_t host_rate;
        /** Messages each destination's bucket holds (default 6). */
        uint32_t host_burst;
        /**
         * Per-destination table size, rounded up to a multiple of 8 and a
         * power of two (default 1024).
         */
        uint32_t host_entries;
        /**
         * Bit (1 << type) per ICMP type limited per destination (default
         * 6168 = 0x1818, Linux's icmp_ratemask).
         */
        uint32_t mask;
        /**
         * Echo replies are exempt from both buckets unless set (default
         * false, like Linux and gVisor).
         */
        bool limit_echo_reply;
        /**
         * As Linux since 2020: each global take costs 0, 1 or 2 tokens at
         * random (mean 1) (default false).
         */
        bool randomize_global;
};

/** Fills c with the defaults listed in the struct. */
NS_API void ns_icmp_ratelimit_config_default(struct ns_icmp_ratelimit_config *c);

#endif
