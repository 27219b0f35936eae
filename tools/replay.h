/*
 * `netstack replay`'s links: what kind of interface a capture's link type
 * gives, and the in-memory device of each kind the replay feeds and reads.
 */
#ifndef NS_TOOLS_REPLAY_H
#define NS_TOOLS_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

/** The interfaces of one replay: all Ethernet or all raw IP. */
enum replay_kind { REPLAY_ETHERNET, REPLAY_RAW };

/**
 * The kind a capture of libpcap link type dlt (pcap_datalink()) replays
 * on; false when the replay cannot take that link type.
 */
bool replay_kind_of(int dlt, enum replay_kind *out);

/** "Ethernet" or "raw IP", for messages. */
const char *replay_kind_name(enum replay_kind k);

/** The link type of the output capture for interfaces of kind k. */
enum ns_pcap_linktype replay_pcap_linktype(enum replay_kind k);

/**
 * Whether a packet of a raw capture goes to the stack: only IPv4 (version
 * 4 in the first nibble); IPv6 and anything else is skipped by the caller.
 */
bool replay_raw_is_ipv4(const uint8_t *data, uint32_t len);

/** One interface's in-memory device: a frame channel or a raw-IP channel. */
struct replay_link {
        enum replay_kind kind;
        struct ns_frame_channel *fc;
        struct ns_channel *ch;
};

/**
 * Creates the device for interface i and adds the interface to cs on it
 * (Ethernet: promiscuous, since the capture was made with another MAC).
 * 0 or -1 (printed).
 */
int replay_link_attach(struct replay_link *l, enum replay_kind kind, struct cli_stack *cs,
                       const struct cli_opts *o, size_t i);

/** Hands one captured frame or packet to the interface. 0 or an ns_err. */
int replay_link_inject(struct replay_link *l, const void *data, uint32_t len);

/** Takes the oldest frame or packet the stack sent (the caller owns it), or NULL. */
struct ns_pkt *replay_link_read(struct replay_link *l);

/** Frees the device (after the stack is destroyed). */
void replay_link_destroy(struct replay_link *l);

#endif
