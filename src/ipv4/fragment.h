/*
 * IPv4 fragmentation on send and forward (RFC 791 3.2 "Fragmentation",
 * RFC 1812 4.2.2.7): the seed's handleFragments()/buildNextFragment() with
 * Linux's ip_do_fragment() arithmetic and BSD's option handling.
 */
#ifndef NS_IPV4_FRAGMENT_H
#define NS_IPV4_FRAGMENT_H

#include <stdint.h>

#include <netstack/pkt.h>

/*
 * Splits pkt into fragments of at most mtu bytes each (mtu above 65535
 * counts as 65535). Consumes pkt on every path.
 *
 * pkt's data starts at a complete IPv4 header (hdr_len = IHL * 4 bytes)
 * whose checksum is valid; Total Length says how many bytes of the data
 * are the datagram (any beyond are dropped). DF is not looked at: deciding
 * whether a datagram may be fragmented, and answering ICMP fragmentation
 * needed, is the caller's job.
 *
 * Each fragment carries (mtu - its header) rounded down to 8 payload bytes,
 * the last one the rest. The first fragment keeps the original header,
 * options and all; later ones get the fixed 20 bytes plus only the options
 * whose copied flag is set (RFC 791 3.1: Record Route and Timestamp go in
 * the first fragment only), padded with EOL to a multiple of 4, so their
 * headers may be shorter. Every fragment has the original's identification,
 * TTL, TOS and DF, its own Total Length, offset and checksum, and MF set
 * except on the last piece, which keeps MF when the original was itself a
 * non-last fragment (offsets continue from its offset; lwIP patch #9645).
 *
 * Fragments are appended to *out in order, with the network header marked
 * at their data start and pkt's nic_id, flags, mark, net_proto and
 * transport_proto. The first fragment is pkt itself, trimmed in place,
 * when pkt's storage is not shared and it has `headroom` bytes of
 * headroom; every other fragment is a new packet from pool with `headroom`
 * bytes of headroom and the payload copied once.
 *
 * Returns the number of fragments (1, pkt unchanged, when it already fits),
 * or a negative enum ns_err with *out left as it was and every fragment made
 * so far freed:
 *  - NS_ERR_MESSAGE_TOO_LONG: mtu below the header plus 8 bytes;
 *  - NS_ERR_NO_BUFFER_SPACE: the pool refused a fragment;
 *  - NS_ERR_MALFORMED_HEADER: not a structurally valid IPv4 header (bad
 *    version, IHL, Total Length, or options that do not parse);
 *  - NS_ERR_INVALID_ARGUMENT: pkt or out is NULL.
 */
int ns__ipv4_fragment(struct ns_pkt_pool *pool, struct ns_pkt *pkt, uint32_t mtu, uint32_t headroom,
                      struct ns_pkt_list *out);

#endif
