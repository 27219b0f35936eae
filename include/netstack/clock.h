/**
 * @file
 * Clocks. The stack never reads the time itself (DESIGN.md, "Sans-I/O
 * core"): it asks an injected struct ns_clock. Tests and replays use the
 * manual clock below, which moves only when told to; a real program uses
 * ns_system_clock() from <netstack/sys.h>.
 */
#ifndef NETSTACK_CLOCK_H
#define NETSTACK_CLOCK_H

#include <stdint.h>

#include <netstack/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A source of time, passed by value; both functions receive ctx. */
struct ns_clock {
        /**
         * Monotonic time in nanoseconds from an arbitrary origin. Never goes
         * backwards; timers and timeouts are measured against it.
         */
        int64_t (*now_ns)(void *ctx);
        /**
         * Wall-clock time: UTC nanoseconds since the Unix epoch. Used only
         * where a protocol carries the time of day (the IP timestamp option,
         * RFC 791 and ICMP timestamps, RFC 792); it may jump.
         */
        int64_t (*wall_ns)(void *ctx);
        /** Passed back to both functions. */
        void *ctx;
};

/**
 * A clock that moves only when ns_manual_clock_advance() is called. For
 * tests and for replaying captures. Fields may be read (and set) directly.
 */
struct ns_manual_clock {
        int64_t mono_ns; /**< what now_ns() returns */
        int64_t wall_ns; /**< what wall_ns() returns */
};

/** Sets the clock's monotonic and wall readings. */
NS_API void ns_manual_clock_init(struct ns_manual_clock *c, int64_t mono_ns, int64_t wall_ns);

/**
 * Returns a struct ns_clock that reads c. The result borrows c, which must
 * outlive every user of the returned clock.
 */
NS_API struct ns_clock ns_manual_clock_as_clock(struct ns_manual_clock *c);

/**
 * Moves both readings forward by delta_ns (a negative delta is ignored, so
 * the monotonic reading never goes backwards). Nothing fires by itself:
 * the caller polls the stack afterwards.
 */
NS_API void ns_manual_clock_advance(struct ns_manual_clock *c, int64_t delta_ns);

#ifdef __cplusplus
}
#endif

#endif
