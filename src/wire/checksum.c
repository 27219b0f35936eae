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
#define VECTOR_MIN_BYTES 320

static inline uint32_t load32(const uint8_t *p)
{
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return v;
}

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

/*
 * Sum of nbytes (a multiple of 64) at p modulo 2^64 - 1. Kept out of line so
 * that the short-buffer path inlined into the entry points needs no saved
 * registers.
 */
static __attribute__((noinline)) uint64_t sum_bulk(const uint8_t *p, size_t nbytes)
{
        const uint8_t *end = p + nbytes;
#ifdef __SIZEOF_INT128__
        /*
         * Four independent 128-bit accumulators: the compiler emits add/adc
         * pairs, and four chains keep several ALUs busy. The high halves
         * count carries out of bit 63; 2^64 == 1 modulo 2^64 - 1, so adding
         * them back is exact.
         */
        unsigned __int128 a = 0, b = 0, c = 0, d = 0;
        for (; p < end; p += 64) {
                a += load64(p);
                b += load64(p + 8);
                c += load64(p + 16);
                d += load64(p + 24);
                a += load64(p + 32);
                b += load64(p + 40);
                c += load64(p + 48);
                d += load64(p + 56);
        }
        a += b;
        c += d;
        a += c;
        return add_carry((uint64_t)a, (uint64_t)(a >> 64));
#else
        /* 32-bit halves in 64-bit accumulators cannot overflow before 2^32 words. */
        uint64_t lo = 0, hi = 0;
        for (; p < end; p += 8) {
                uint64_t x = load64(p);
                lo += x & 0xffffffffu;
                hi += x >> 32;
        }
        return add_carry(lo, hi);
#endif
}

/*
 * Sum of len < 64 bytes at p, starting at an even offset of the buffer:
 * 64-bit words added with carry (each carry out of bit 63 is worth 1, as
 * 2^64 == 1 modulo 2^64 - 1), then the 4-, 2- and 1-byte tail. Straight-line
 * code, one branch per size bit. The result may use all 64 bits; callers
 * combine it with add_carry() or fold64().
 */
static inline uint64_t sum_short(const uint8_t *p, size_t len)
{
        uint64_t s = 0, c = 0;
        if (len & 32) {
                s = load64(p);
                c += __builtin_add_overflow(s, load64(p + 8), &s);
                c += __builtin_add_overflow(s, load64(p + 16), &s);
                c += __builtin_add_overflow(s, load64(p + 24), &s);
                p += 32;
        }
        if (len & 16) {
                c += __builtin_add_overflow(s, load64(p), &s);
                c += __builtin_add_overflow(s, load64(p + 8), &s);
                p += 16;
        }
        if (len & 8) {
                c += __builtin_add_overflow(s, load64(p), &s);
                p += 8;
        }
        /* Every remaining piece starts at an even offset, so none needs a
         * shift; c (at most 7) and the tail stay far below 2^64. */
        if (len & 4) {
                c += load32(p);
                p += 4;
        }
        if (len & 2) {
                uint16_t v;
                memcpy(&v, p, sizeof(v));
                c += v;
                p += 2;
        }
        if (len & 1) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                c += (uint64_t)*p << 8;
#else
                c += *p;
#endif
        }
        return add_carry(s, c);
}

/*
 * Sum of 64..127 bytes at p (an even offset of the buffer): the first 64 as
 * eight 64-bit words added with carry (each carry out of bit 63 is worth 1,
 * as 2^64 == 1 modulo 2^64 - 1), the rest by sum_short(). This keeps the
 * common small datagram (a 64-byte echo message, a UDP datagram of 64
 * bytes of payload) on the inlined leaf path, without the calls to
 * native_large() and sum_bulk().
 */
static inline uint64_t sum_medium(const uint8_t *p, size_t len)
{
        uint64_t s = load64(p), c = 0, t;
        c += __builtin_add_overflow(s, load64(p + 8), &t);
        c += __builtin_add_overflow(t, load64(p + 16), &s);
        c += __builtin_add_overflow(s, load64(p + 24), &t);
        c += __builtin_add_overflow(t, load64(p + 32), &s);
        c += __builtin_add_overflow(s, load64(p + 40), &t);
        c += __builtin_add_overflow(t, load64(p + 48), &s);
        c += __builtin_add_overflow(s, load64(p + 56), &t);
        return add_carry(add_carry(t, c), sum_short(p + 64, len - 64));
}

/* The scalar native sum, inlined into the public entry points. */
static inline __attribute__((always_inline)) uint32_t native_scalar(const uint8_t *p, size_t len)
{
        if (len < 64)
                return fold64(sum_short(p, len));
        size_t bulk = len & ~(size_t)63;
        uint64_t s = sum_bulk(p, bulk);
        return fold64(add_carry(s, sum_short(p + bulk, len - bulk)));
}

uint32_t ns__csum_native_scalar(const uint8_t *p, size_t len)
{
        return native_scalar(p, len);
}

/*
 * Converts a native sum to the network-order partial sum and adds `initial`
 * (a partial sum, so <= 0xffff: two folding steps are enough).
 */
static inline uint32_t finish_partial(uint32_t native, uint32_t initial)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        uint32_t s = initial + native;
#else
        uint32_t s = initial + swap16(native);
#endif
        s = (s & 0xffffu) + (s >> 16);
        return (s & 0xffffu) + (s >> 16);
}

/* The native sum of buffers of 64 bytes or more, by the fastest path this CPU has. */
static __attribute__((noinline)) uint32_t native_large(const uint8_t *p, size_t len)
{
        if (len >= VECTOR_MIN_BYTES && ns__csum_have_avx2())
                return ns__csum_native_avx2(p, len);
        return native_scalar(p, len);
}

/*
 * ns_csum_partial(), inlined into ns_checksum() as well. Buffers under 128
 * bytes stay on a leaf path with no calls.
 */
static inline __attribute__((always_inline)) uint32_t partial(const void *data, size_t len,
                                                              uint32_t initial)
{
        const uint8_t *p = data;
        uint32_t native;
        if (len < 64)
                native = fold64(sum_short(p, len));
        else if (len < 128)
                native = fold64(sum_medium(p, len));
        else
                native = native_large(p, len);
        return finish_partial(native, initial);
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
        return partial(data, len, initial);
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
        return ns_csum_finish(partial(data, len, 0));
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
