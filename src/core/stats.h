/*
 * Bumping counters from inside the stack.
 *
 * A packet handled by a network endpoint counts in the endpoint's (NIC's)
 * struct ns_stats and in the stack-wide one, as the seed's
 * MultiCounterIPStats does. The hot path pays for one of them: when the
 * endpoint's pointer is given only it is bumped, and ns_stack_get_stats()
 * adds every NIC's counters to the stack's own (which hold the events
 * without a NIC and the counts of removed NICs). Either pointer may be NULL;
 * the compiler drops the test when the pointer is a known constant.
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

/**
 * Adds n to group.field of the endpoint's counters, or of the stack's when
 * the endpoint's pointer is NULL (the stack's totals include the NICs').
 */
#define NS_STAT_ADD(ep_stats, stack_stats, group, field, n)     \
        do {                                                    \
                struct ns_stats *ns_stat_ep_ = (ep_stats);      \
                struct ns_stats *ns_stat_st_ = (stack_stats);   \
                uint64_t ns_stat_n_ = (uint64_t)(n);            \
                if (ns_stat_ep_)                                \
                        ns_stat_ep_->group.field += ns_stat_n_; \
                else if (ns_stat_st_)                           \
                        ns_stat_st_->group.field += ns_stat_n_; \
        } while (0)

/** Adds one to group.field as NS_STAT_ADD() does. */
#define NS_STAT_INC(ep_stats, stack_stats, group, field) \
        NS_STAT_ADD(ep_stats, stack_stats, group, field, 1)

#endif
