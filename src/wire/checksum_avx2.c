/*
 * AVX2 Internet checksum (RFC 1071) for large buffers.
 *
 * Each 256-bit load is treated as four 64-bit lanes. Two accumulators per
 * lane: `full` adds the whole lane modulo 2^64, `high` adds its upper 32
 * bits exactly. The exact sum of the lower halves is then full - high * 2^32
 * (it is below 2^64 for the block sizes used), and since 2^32 == 1 modulo
 * 0xffff, low + high has the same one's-complement sum as the bytes. That is
 * three vector operations (add, shift, add) per 32 bytes, with no carry
 * detection in the loop.
 */
#include "wire/checksum_impl.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))

#include <immintrin.h>

#define BLOCK_BYTES 128
/* Keeps `high` and the lower-half sum of each lane far below 2^64. */
#define MAX_BLOCKS_PER_RUN ((size_t)1 << 24)

static inline uint64_t add_carry(uint64_t s, uint64_t v)
{
        s += v;
        return s + (s < v);
}

static inline uint32_t fold64(uint64_t s)
{
        s = (s & 0xffffffffu) + (s >> 32);
        s = (s & 0xffffffffu) + (s >> 32);
        s = (s & 0xffffu) + (s >> 16);
        s = (s & 0xffffu) + (s >> 16);
        return (uint32_t)s;
}

/* Sums nblocks * 128 bytes at p, 32-byte aligned, modulo 2^64 - 1. */
__attribute__((target("avx2"))) static uint64_t sum_blocks(const uint8_t *p, size_t nblocks)
{
        __m256i full = _mm256_setzero_si256();
        __m256i high = _mm256_setzero_si256();
        for (size_t i = 0; i < nblocks; i++, p += BLOCK_BYTES) {
                __m256i v0 = _mm256_load_si256((const __m256i *)(const void *)p);
                __m256i v1 = _mm256_load_si256((const __m256i *)(const void *)(p + 32));
                __m256i v2 = _mm256_load_si256((const __m256i *)(const void *)(p + 64));
                __m256i v3 = _mm256_load_si256((const __m256i *)(const void *)(p + 96));
                __m256i f = _mm256_add_epi64(_mm256_add_epi64(v0, v1), _mm256_add_epi64(v2, v3));
                __m256i h = _mm256_add_epi64(
                    _mm256_add_epi64(_mm256_srli_epi64(v0, 32), _mm256_srli_epi64(v1, 32)),
                    _mm256_add_epi64(_mm256_srli_epi64(v2, 32), _mm256_srli_epi64(v3, 32)));
                full = _mm256_add_epi64(full, f);
                high = _mm256_add_epi64(high, h);
        }
        __m256i low = _mm256_sub_epi64(full, _mm256_slli_epi64(high, 32));
        uint64_t lanes[8];
        _mm256_storeu_si256((__m256i *)(void *)lanes, low);
        _mm256_storeu_si256((__m256i *)(void *)(lanes + 4), high);
        uint64_t s = 0;
        for (int i = 0; i < 8; i++)
                s = add_carry(s, lanes[i]);
        return s;
}

uint32_t ns__csum_native_avx2(const uint8_t *p, size_t len)
{
        if (len < 2 * BLOCK_BYTES)
                return ns__csum_native_scalar(p, len);
        /*
         * Sum an unaligned head separately so that the vector loads never
         * split a cache line. An odd head shifts everything after it by one
         * byte; rotating that sum by 8 bits (multiplying by 256 modulo
         * 0xffff) puts it back in step (RFC 1071 section 2(B)).
         */
        size_t head = (size_t)(-(uintptr_t)p & 31u);
        uint32_t head_sum = ns__csum_native_scalar(p, head);
        p += head;
        len -= head;
        uint64_t s = 0;
        while (len >= BLOCK_BYTES) {
                size_t n = len / BLOCK_BYTES;
                if (n > MAX_BLOCKS_PER_RUN)
                        n = MAX_BLOCKS_PER_RUN;
                s = add_carry(s, sum_blocks(p, n));
                p += n * BLOCK_BYTES;
                len -= n * BLOCK_BYTES;
        }
        s = add_carry(s, ns__csum_native_scalar(p, len));
        uint32_t rest = fold64(s);
        if (head & 1)
                rest = ((rest & 0xffu) << 8) | (rest >> 8);
        return fold64((uint64_t)head_sum + rest);
}

bool ns__csum_have_avx2(void)
{
        return __builtin_cpu_supports("avx2");
}

#else

uint32_t ns__csum_native_avx2(const uint8_t *p, size_t len)
{
        return ns__csum_native_scalar(p, len);
}

bool ns__csum_have_avx2(void)
{
        return false;
}

#endif
