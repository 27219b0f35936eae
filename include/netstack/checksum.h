/**
 * @file
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * A "partial sum" is the 16-bit one's-complement sum of some bytes, held in
 * a uint32_t whose value is at most 0xffff. Partial sums of consecutive
 * pieces combine with ns_csum_combine(); the checksum field itself is the
 * complement of the final sum (ns_csum_finish()).
 */
#ifndef NETSTACK_CHECKSUM_H
#define NETSTACK_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>

/**
 * Adds the one's-complement sum of len bytes at data (any alignment, any
 * length, bytes taken as big-endian 16-bit words with an odd last byte
 * padded with zero) to the partial sum `initial`. Returns the new partial
 * sum (<= 0xffff). `initial` need not be folded: any value below 2^31 is
 * taken modulo 0xffff, so a caller can pass a raw sum of 16-bit words.
 */
NS_API uint32_t ns_csum_partial(const void *data, size_t len, uint32_t initial);

/**
 * Combines the partial sum `a` of a piece of `a_len` bytes with the partial
 * sum `b` of the bytes that follow it. An odd a_len shifts b by one byte,
 * which this accounts for. Returns the partial sum of both pieces.
 */
NS_API uint32_t ns_csum_combine(uint32_t a, uint32_t b, size_t a_len);

/** Returns the checksum field value for a partial sum: its complement. */
static inline uint16_t ns_csum_finish(uint32_t sum)
{
        return (uint16_t)~sum;
}

/** Returns the checksum field for len bytes: ~sum(data). */
NS_API uint16_t ns_checksum(const void *data, size_t len);

/**
 * RFC 1624 equation 3: the new checksum field after a 16-bit word covered by
 * it changes from old_word to new_word (HC' = ~(~HC + ~m + m')). Used to
 * decrement the TTL of a forwarded packet without summing the header again.
 */
NS_API uint16_t ns_csum_update16(uint16_t old_csum, uint16_t old_word, uint16_t new_word);

/**
 * Partial sum of the IPv4 pseudo-header used by UDP and TCP: source and
 * destination (host order), protocol and the transport length in bytes.
 */
NS_API uint32_t ns_csum_pseudo_ip4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

#endif
