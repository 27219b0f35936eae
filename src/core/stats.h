/*
 * Bumping counters from inside the stack.
 *
 * A packet handled by a network endpoint counts twice: in the endpoint's
 * own struct ns_stats and in the stack-wide one, as the seed's
 * MultiCounterIPStats does. These macros do both in one statement; either
 * pointer may be NULL (a NIC-level event has no endpoint, a test may have
 * no stack), and the compiler drops the test when the pointer is a known
 * constant.
 *
 *   NS_STAT_INC(&ep->stats, &stack->stats, ip, malformed_packets_received);
 *   NS_STAT_ADD(NULL, &stack->stats, nic, rx_bytes, frame_len);
 *
 * group and field are checked by the compiler against <netstack/stats.h>.
 */
#ifndef NS_CORE_STATS_H
#define NS_CORE_STATS_H

#include <stdint.h>

#include <netstack/stats.h>

/** Adds n to group.field of both struct ns_stats pointers (NULL skipped). */
#define NS_STAT_ADD(ep_stats, stack_stats, group, field, n)     \
        do {                                                    \
                struct ns_stats *ns_stat_ep_ = (ep_stats);      \
                struct ns_stats *ns_stat_st_ = (stack_stats);   \
                uint64_t ns_stat_n_ = (uint64_t)(n);            \
                if (ns_stat_ep_)                                \
                        ns_stat_ep_->group.field += ns_stat_n_; \
                if (ns_stat_st_)                                \
                        ns_stat_st_->group.field += ns_stat_n_; \
        } while (0)

/** Adds one to group.field of both struct ns_stats pointers (NULL skipped). */
#define NS_STAT_INC(ep_stats, stack_stats, group, field) \
        NS_STAT_ADD(ep_stats, stack_stats, group, field, 1)

#endif
