/*
 * RFC 1071 Internet checksum and RFC 1624 incremental update.
 *
 * The sum is computed over host-order words with wide accumulators (RFC 1071
 * section 2(B) byte-order independence and 2(C) parallel summation), folded
 * to 16 bits once, and swapped to network order at the end. Large buffers
 * take the AVX2 path in checksum_avx2.c when the CPU has it; the choice is
 * made per call from the CPU feature bits, so there is no state to share
 * between stacks.
 */
#include <string.h>

#include <netstack/checksum.h>

#include "wire/checksum_impl.h"

/*
 * Below this many bytes the scalar loop wins: the vector path pays for an
 * alignment head, a horizontal reduction and a feature check. Measured with
 * bench/ on an AMD EPYC (Zen 5); see bench/README.md.
 */
#define VECTOR_MIN_BYTES 256

static inline uint64_t load64(const uint8_t *p)
{
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return v;
}

/* One's-complement 64-bit add: the carry out wraps around into bit 0. */
static inline uint64_t add_carry(uint64_t s, uint64_t v)
{
        s += v;
        return s + (s < v);
}

/*
 * Folds a 64-bit one's-complement sum to 16 bits. 0xffff divides 2^64 - 1,
 * so each step keeps the value modulo 0xffff, and a non-zero sum never folds
 * to zero.
 */
static inline uint32_t fold64(uint64_t s)
{
        s = (s & 0xffffffffu) + (s >> 32);
        s = (s & 0xffffffffu) + (s >> 32);
        s = (s & 0xffffu) + (s >> 16);
        s = (s & 0xffffu) + (s >> 16);
        return (uint32_t)s;
}

static inline uint32_t swap16(uint32_t v)
{
        return ((v & 0xffu) << 8) | (v >> 8);
}

uint32_t ns__csum_native_scalar(const uint8_t *p, size_t len)
{
        uint64_t s = 0;
#ifdef __SIZEOF_INT128__
        /*
         * Four independent 128-bit accumulators: the compiler emits add/adc
         * pairs, and four chains keep several ALUs busy. The high halves
         * count carries out of bit 63; 2^64 == 1 modulo 2^64 - 1, so adding
         * them back is exact.
         */
        unsigned __int128 a = 0, b = 0, c = 0, d = 0;
        while (len >= 64) {
                a += load64(p);
                b += load64(p + 8);
                c += load64(p + 16);
                d += load64(p + 24);
                a += load64(p + 32);
                b += load64(p + 40);
                c += load64(p + 48);
                d += load64(p + 56);
                p += 64;
                len -= 64;
        }
        a += b;
        c += d;
        a += c;
        s = add_carry((uint64_t)a, (uint64_t)(a >> 64));
#else
        /* 32-bit halves into 64-bit accumulators cannot overflow before 2^32 words. */
        uint64_t lo = 0, hi = 0;
        while (len >= 16) {
                uint64_t x = load64(p), y = load64(p + 8);
                lo += (x & 0xffffffffu) + (y & 0xffffffffu);
                hi += (x >> 32) + (y >> 32);
                p += 16;
                len -= 16;
        }
        s = add_carry(lo, hi);
#endif
        while (len >= 8) {
                s = add_carry(s, load64(p));
                p += 8;
                len -= 8;
        }
        /* What is left starts at an even offset, so no piece needs a shift. */
        if (len & 4) {
                uint32_t v;
                memcpy(&v, p, sizeof(v));
                s = add_carry(s, v);
                p += 4;
        }
        if (len & 2) {
                uint16_t v;
                memcpy(&v, p, sizeof(v));
                s = add_carry(s, v);
                p += 2;
        }
        if (len & 1) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                s = add_carry(s, (uint64_t)*p << 8);
#else
                s = add_carry(s, *p);
#endif
        }
        return fold64(s);
}

/* Converts a native sum to the network-order partial sum and adds `initial`. */
static inline uint32_t finish_partial(uint32_t native, uint32_t initial)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        return fold64((uint64_t)initial + native);
#else
        return fold64((uint64_t)initial + swap16(native));
#endif
}

uint32_t ns__csum_partial_scalar(const void *data, size_t len, uint32_t initial)
{
        return finish_partial(ns__csum_native_scalar(data, len), initial);
}

uint32_t ns__csum_partial_avx2(const void *data, size_t len, uint32_t initial)
{
        return finish_partial(ns__csum_native_avx2(data, len), initial);
}

uint32_t ns_csum_partial(const void *data, size_t len, uint32_t initial)
{
        const uint8_t *p = data;
        uint32_t native;
        if (len >= VECTOR_MIN_BYTES && ns__csum_have_avx2())
                native = ns__csum_native_avx2(p, len);
        else
                native = ns__csum_native_scalar(p, len);
        return finish_partial(native, initial);
}

uint32_t ns_csum_combine(uint32_t a, uint32_t b, size_t a_len)
{
        /* An odd-length first piece puts b's bytes in the other half of each word. */
        if (a_len & 1)
                b = swap16(b);
        return fold64((uint64_t)a + b);
}

uint16_t ns_checksum(const void *data, size_t len)
{
        return ns_csum_finish(ns_csum_partial(data, len, 0));
}

uint16_t ns_csum_update16(uint16_t old_csum, uint16_t old_word, uint16_t new_word)
{
        /*
         * RFC 1624 equation 3, HC' = ~(~HC + ~m + m'): only one's-complement
         * additions, so it does not have equation 1's 0x0000 versus 0xffff
         * ambiguity (RFC 1624 sections 3 and 4).
         */
        uint64_t s = (uint16_t)~old_csum;
        s += (uint16_t)~old_word;
        s += new_word;
        return (uint16_t)~fold64(s);
}

uint32_t ns_csum_pseudo_ip4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
        /* RFC 768 / RFC 793 pseudo-header: src, dst, zero, protocol, length. */
        uint64_t s = (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu);
        s += proto;
        s += len;
        return fold64(s);
}
