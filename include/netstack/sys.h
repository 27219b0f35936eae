/**
 * @file
 * The real clock and random source of the host. These are the only places
 * in the library that ask the operating system for time or randomness; the
 * stack itself receives them as injected struct ns_clock and struct ns_rng.
 */
#ifndef NETSTACK_SYS_H
#define NETSTACK_SYS_H

#include <netstack/export.h>
#include <netstack/clock.h>
#include <netstack/rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Returns the host clock: now_ns() reads CLOCK_MONOTONIC and wall_ns()
 * reads CLOCK_REALTIME. It has no state; ctx is NULL.
 */
NS_API struct ns_clock ns_system_clock(void);

/**
 * Returns the host random source: fill() reads getrandom(2) from the
 * kernel's non-blocking pool, retrying on interruption and short reads. It
 * has no state; ctx is NULL. If the kernel refuses outright (no getrandom
 * and no /dev/urandom), the process is aborted rather than handing out
 * predictable bytes.
 */
NS_API struct ns_rng ns_system_rng(void);

#ifdef __cplusplus
}
#endif

#endif
