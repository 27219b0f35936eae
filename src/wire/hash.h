/*
 * The hash behind IPv4 identification counters and fragment keys: Bob
 * Jenkins' 3-word hash as Linux's jhash_3words() (include/linux/jhash.h) and
 * gVisor's hash.Hash3Words compute it. Pure functions; the random initial
 * value lives in the stack that calls them.
 */
#ifndef NS_WIRE_HASH_H
#define NS_WIRE_HASH_H

#include <stdint.h>

#include <netstack/addr.h>

/*
 * Jenkins hash of three 32-bit words with a caller-chosen initial value.
 * Gives the same results as gVisor's Hash3Words(a, b, c, initval): the
 * initial value is offset by 0xdeadbeef + (3 << 2) and only the final mix
 * (__jhash_final) runs.
 */
uint32_t ns_hash3_words(uint32_t a, uint32_t b, uint32_t c, uint32_t initval);

/*
 * The 32-bit word the seed hashes for an address: its four network-order
 * bytes read as a little-endian integer (192.0.2.1 gives 0x010200c0).
 * Takes the host-order address used everywhere above the codecs.
 */
static inline uint32_t ns_hash_ip4_word(ns_ip4 a)
{
        return (a >> 24) | ((a >> 8) & 0xff00u) | ((a << 8) & 0xff0000u) | (a << 24);
}

/*
 * The seed's hashRoute(): picks the identification counter bucket for a
 * (source, destination, transport protocol) triple.
 */
static inline uint32_t ns_hash_route(ns_ip4 src, ns_ip4 dst, uint8_t proto, uint32_t initval)
{
        return ns_hash3_words(ns_hash_ip4_word(src), ns_hash_ip4_word(dst), proto, initval);
}

/*
 * gVisor's IPv4FragmentHash(): the reassembly bucket of a fragment, keyed on
 * identification and protocol (RFC 791 section 2.3), source and destination.
 */
static inline uint32_t ns_hash_ipv4_fragment(uint16_t id, uint8_t proto, ns_ip4 src, ns_ip4 dst,
                                             uint32_t initval)
{
        return ns_hash3_words((uint32_t)id << 16 | proto, ns_hash_ip4_word(src),
                              ns_hash_ip4_word(dst), initval);
}

#endif
