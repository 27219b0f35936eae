/*
 * Internal interface of the Internet checksum (RFC 1071) implementations.
 *
 * ns_csum_partial() picks one of these per call; they are exposed so that
 * tests can check every path on every machine that can run it, and so that
 * benchmarks can compare them.
 *
 * A "native sum" is the one's-complement sum of bytes read as host-order
 * 16-bit words (RFC 1071 section 2(B): the sum is byte-order independent, so
 * a little-endian host sums byte-swapped words and swaps the folded result
 * once at the end). It is returned folded to at most 0xffff, and is zero only
 * when every byte summed was zero.
 */
#ifndef NS_WIRE_CHECKSUM_IMPL_H
#define NS_WIRE_CHECKSUM_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Native sum of len bytes at p (any alignment, any length; an odd last byte
 * is padded with zero as the high-order byte of the big-endian word, which
 * is what "padded with zero" means in RFC 1071) using 64-bit integer
 * arithmetic only. Portable C; runs everywhere.
 */
uint32_t ns__csum_native_scalar(const uint8_t *p, size_t len);

/*
 * Same result as ns__csum_native_scalar() using 256-bit AVX2 vectors.
 * Callers must check ns__csum_have_avx2() first: on a CPU without AVX2 this
 * faults with an illegal instruction. On builds for other architectures it
 * falls back to the scalar sum.
 */
uint32_t ns__csum_native_avx2(const uint8_t *p, size_t len);

/*
 * True when this CPU and build can run ns__csum_native_avx2(). Reads the
 * CPU feature bits that the compiler runtime fills in at start-up; keeps no
 * state of its own, so any number of stacks may call it concurrently.
 */
bool ns__csum_have_avx2(void);

/*
 * ns_csum_partial() semantics (see <netstack/checksum.h>) through one named
 * path, for tests and benchmarks. The AVX2 variant has the same
 * precondition as ns__csum_native_avx2().
 */
uint32_t ns__csum_partial_scalar(const void *data, size_t len, uint32_t initial);
uint32_t ns__csum_partial_avx2(const void *data, size_t len, uint32_t initial);

#endif
