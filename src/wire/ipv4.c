/* IPv4 header codec; see ipv4.h for the contract. */
#include "wire/ipv4.h"

#include <string.h>

#include <netstack/checksum.h>

const char *ns_ipv4_invalid_name(enum ns_ipv4_invalid why)
{
        switch (why) {
#define NS_IPV4_CASE(name, str) \
        case name:              \
                return str;
                NS_IPV4_INVALID_TABLE(NS_IPV4_CASE)
#undef NS_IPV4_CASE
        }
        return "unknown";
}

/*
 * One's-complement sum of an IPv4 header taken as 32-bit big-endian words:
 * since 2^16 = 1 (mod 2^16 - 1), folding the sum of 32-bit words gives the
 * RFC 1071 sum of the 16-bit words. Headers are IHL*4 bytes, so this is 5
 * to 15 loads; the first 20 bytes (every header has them, and most have no
 * more) are summed without a loop. `skip` drops the checksum field (bytes
 * 10..11). hlen is a multiple of 4.
 */
static uint32_t hdr_sum(const uint8_t *hdr, size_t hlen, bool skip)
{
        /*
         * Native-order words: the one's-complement sum is byte-order
         * independent up to a final byte swap (RFC 1071 2(B)), which callers
         * that need the value apply; no load pays for a swap.
         */
        uint64_t s = 0;
        size_t i = 0;
        if (hlen >= NS_IPV4_MIN_HDR) {
                s = (uint64_t)ns__load_ne32(hdr) + ns__load_ne32(hdr + 4) + ns__load_ne32(hdr + 8) +
                    ns__load_ne32(hdr + 12) + ns__load_ne32(hdr + 16);
                i = NS_IPV4_MIN_HDR;
        }
        for (; i < hlen; i += 4)
                s += ns__load_ne32(hdr + i);
        if (skip) {
                /* The field's 16 bits count the same at either half of a word
                 * (2^16 is 1 modulo 0xffff), and s holds them, so no wrap. */
                uint16_t f;
                memcpy(&f, hdr + 10, sizeof(f));
                s -= f;
        }
        /*
         * Fold to 16 bits in four fixed steps (as ns_csum_partial does)
         * rather than looping until nothing is carried: each step keeps the
         * value modulo 0xffff, a non-zero value never folds to zero, and
         * four steps reach 16 bits from any 64-bit value, so the result is
         * the same as the loop's whatever hlen the caller passes.
         */
        s = (s & 0xffffffffu) + (s >> 32);
        s = (s & 0xffffffffu) + (s >> 32);
        s = (s & 0xffffu) + (s >> 16);
        s = (s & 0xffffu) + (s >> 16);
        return (uint32_t)s;
}

/* The native-order 16-bit sum in network (host-value) order. */
static uint32_t to_host_order(uint32_t native)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        return native;
#else
        return ((native & 0xffu) << 8) | (native >> 8);
#endif
}

bool ns__ipv4_checksum_ok_any(const uint8_t *hdr, size_t hlen)
{
        if (hlen % 4)
                return ns_checksum(hdr, hlen) == 0;
        return hdr_sum(hdr, hlen, false) == 0xffff;
}

uint16_t ns_ipv4_compute_checksum(const uint8_t *hdr, size_t hlen)
{
        if (hlen < 12)
                return ns_checksum(hdr, hlen);
        if (hlen % 4 == 0)
                return ns_csum_finish(to_host_order(hdr_sum(hdr, hlen, true)));
        /* Skip bytes 10..11; the first piece has even length. */
        uint32_t s = ns_csum_partial(hdr, 10, 0);
        s = ns_csum_combine(s, ns_csum_partial(hdr + 12, hlen - 12, 0), 10);
        return ns_csum_finish(s);
}

void ns_ipv4_fill_checksum(uint8_t *hdr)
{
        ns_ipv4_set_checksum(hdr, ns_ipv4_compute_checksum(hdr, ns_ipv4_hdr_len(hdr)));
}

uint8_t ns_ipv4_dec_ttl(uint8_t *hdr)
{
        /* TTL shares a 16-bit word with the protocol (bytes 8..9). */
        uint16_t old_word = ns_load_be16(hdr + 8);
        uint8_t ttl = (uint8_t)(hdr[8] - 1);
        hdr[8] = ttl;
        uint16_t new_word = ns_load_be16(hdr + 8);
        ns_ipv4_set_checksum(hdr, ns_csum_update16(ns_ipv4_checksum(hdr), old_word, new_word));
        return ttl;
}

enum ns_ipv4_invalid ns_ipv4_parse(const uint8_t *p, size_t len, struct ns_ipv4_fields *out)
{
        enum ns_ipv4_invalid why = ns_ipv4_validate(p, len);
        if (why != NS_IPV4_VALID)
                return why;
        out->tos = ns_ipv4_tos(p);
        out->total_len = ns_ipv4_total_len(p);
        out->id = ns_ipv4_id(p);
        out->flags = ns_ipv4_flags(p);
        out->frag_off = (uint16_t)ns_ipv4_frag_off(p);
        out->ttl = ns_ipv4_ttl(p);
        out->proto = ns_ipv4_proto(p);
        out->src = ns_ipv4_src(p);
        out->dst = ns_ipv4_dst(p);
        out->options_len = (uint8_t)ns_ipv4_options_len(p);
        out->options = out->options_len ? ns_ipv4_options(p) : NULL;
        return NS_IPV4_VALID;
}

size_t ns_ipv4_emit(uint8_t *out, size_t cap, const struct ns_ipv4_fields *f)
{
        if (f->options_len > NS_IPV4_MAX_OPTS || (f->options_len && !f->options))
                return 0;
        if (f->flags > 7 || f->frag_off % NS_IPV4_FRAG_UNIT)
                return 0;
        size_t hlen = NS_IPV4_MIN_HDR + (((size_t)f->options_len + 3) & ~(size_t)3);
        if (hlen > cap)
                return 0;
        ns_ipv4_set_version_ihl(out, hlen);
        ns_ipv4_set_tos(out, f->tos);
        ns_ipv4_set_total_len(out, f->total_len);
        ns_ipv4_set_id(out, f->id);
        ns_ipv4_set_flags_frag_off(out, f->flags, f->frag_off);
        ns_ipv4_set_ttl(out, f->ttl);
        ns_ipv4_set_proto(out, f->proto);
        ns_ipv4_set_checksum(out, 0);
        ns_ipv4_set_src(out, f->src);
        ns_ipv4_set_dst(out, f->dst);
        if (f->options_len) {
                /* memmove: the caller may pass options already in place. */
                memmove(out + NS_IPV4_MIN_HDR, f->options, f->options_len);
                memset(out + NS_IPV4_MIN_HDR + f->options_len, 0,
                       hlen - NS_IPV4_MIN_HDR - f->options_len);
        }
        ns_ipv4_fill_checksum(out);
        return hlen;
}
