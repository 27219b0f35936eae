/*
 * Packet builders and expectation helpers for the IPv4 scenario suites:
 * a header built byte by byte with any field made wrong on purpose, an
 * exact counter diff, and a transport handler that records what reached
 * it.
 */
#ifndef NS_TEST_IPV4_BUILD_H
#define NS_TEST_IPV4_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/addr.h>
#include <netstack/stack.h>
#include <netstack/stats.h>

/** What ipv4_build() writes. Zero fields take the obvious correct value. */
struct ipv4_spec {
        ns_ip4 src, dst;
        uint8_t proto;
        uint8_t ttl;
        uint8_t tos;
        uint16_t id;
        uint8_t flags;     /* NS_IPV4_FLAG_* */
        uint16_t frag_off; /* bytes, a multiple of 8 */
        const uint8_t *options;
        uint8_t options_len; /* a multiple of 4 */
        const uint8_t *payload;
        uint32_t payload_len;
        /* Deliberate faults, applied before the checksum is computed. */
        uint8_t ihl;          /* IHL field to write instead of the true one (0: true) */
        bool force_total_len; /* write total_len instead of the true length */
        uint16_t total_len;   /* used when force_total_len */
        uint8_t version;      /* version field (0: 4) */
        bool bad_checksum;    /* checksum off by 42, as TestIPv4Sanity does */
        uint32_t pad;         /* bytes of link padding (0xa5) after the datagram */
};

/** Writes the packet to buf (cap bytes); returns its length (fails the test if it does not fit). */
size_t ipv4_build(uint8_t *buf, size_t cap, const struct ipv4_spec *s);

/** An ICMP echo request of 8 header bytes plus data_len bytes of pattern, into out. */
size_t icmp_echo_build(uint8_t *out, size_t cap, uint16_t ident, uint16_t seq, uint32_t data_len);

/**
 * Fails the test unless every counter of every group but "nic" moved from
 * before to after by exactly what spec says: "ip.packets_received=1
 * icmp.received_total=1"; counters not named must not move.
 */
void expect_deltas(const struct ns_stats *before, const struct ns_stats *after, const char *spec);

/** What a capture handler saw. */
struct capture {
        uint32_t count;
        uint32_t last_nic;
        uint32_t last_flags;
        uint32_t last_len;     /* transport bytes */
        uint8_t last[2048];    /* transport bytes, truncated */
        uint8_t last_ip[60];   /* the IPv4 header */
        bool port_unreachable; /* answer NS_DELIVER_PORT_UNREACHABLE instead */
};

/** Registers a transport handler for proto on s that records into c. */
void capture_register(struct ns_stack *s, uint8_t proto, struct capture *c);

#endif
