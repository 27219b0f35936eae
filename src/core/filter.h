/*
 * The stack's filter: one user function slot and one rule list per hook
 * point (public types in <netstack/filter.h>). The stack owns one struct
 * ns_filter; the public wrappers that take a struct ns_stack * call the
 * functions below.
 *
 * Rule lists are changed only from the thread driving the stack (DESIGN.md,
 * "One owner per stack"); they allocate on the control path only, never
 * per packet.
 */
#ifndef NS_CORE_FILTER_H
#define NS_CORE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/alloc.h>
#include <netstack/filter.h>

struct ns_pkt;

/** Most rules one hook point holds; adding more fails with NO_BUFFER_SPACE. */
#define NS_FILTER_MAX_RULES 65536u

/* The rules and user function of one hook point. */
struct ns__filter_point {
        ns_filter_hook_fn fn;
        void *ctx;
        struct ns_filter_rule *rules; /* count used of cap, in match order */
        uint32_t count, cap;
};

/** A stack's filter; fields are private to filter.c except `active`. */
struct ns_filter {
        /** Bit (1 << hook) set when that point has a function or a rule. */
        uint32_t active;
        uint32_t next_id;
        struct ns__filter_point points[NS_HOOK_COUNT];
        struct ns_allocator alloc;
};

/** Makes f empty (everything accepted); a is copied (NULL means malloc). Returns 0. */
int ns__filter_init(struct ns_filter *f, const struct ns_allocator *a);

/** Frees every rule list; f is left empty and may be initialised again. */
void ns__filter_destroy(struct ns_filter *f);

/**
 * Sets the user function of hook point `hook` (fn NULL clears it). Returns
 * 0 or NS_ERR_INVALID_ARGUMENT for a bad hook.
 */
int ns__filter_set_hook(struct ns_filter *f, enum ns_hook hook, ns_filter_hook_fn fn, void *ctx);

/**
 * Appends a copy of *rule to the rules of `hook` and stores its new id in
 * *id (id may be NULL); the copy's counters start at 0. Returns 0,
 * NS_ERR_INVALID_ARGUMENT (bad hook, action or prefix length; DNAT outside
 * PREROUTING and OUTPUT; a DNAT port without protocol 6 or 17),
 * NS_ERR_NO_BUFFER_SPACE past NS_FILTER_MAX_RULES, or NS_ERR_NO_MEMORY.
 */
int ns__filter_add_rule(struct ns_filter *f, enum ns_hook hook, const struct ns_filter_rule *rule,
                        uint32_t *id);

/** Removes the rule with this id from whichever point holds it. Returns 0 or NS_ERR_NOT_FOUND. */
int ns__filter_del_rule(struct ns_filter *f, uint32_t id);

/** Removes every rule of `hook` (the user function stays). */
void ns__filter_flush(struct ns_filter *f, enum ns_hook hook);

/**
 * Copies up to cap rules of `hook`, in match order with their ids and
 * counters, to out (NULL when cap is 0). Returns how many the point holds,
 * which may exceed cap. A bad hook holds 0.
 */
size_t ns__filter_list_rules(const struct ns_filter *f, enum ns_hook hook,
                             struct ns_filter_rule *out, size_t cap);

/** Copies the rule with this id to *out. Returns 0 or NS_ERR_NOT_FOUND. */
int ns__filter_get_rule(const struct ns_filter *f, uint32_t id, struct ns_filter_rule *out);

/**
 * The rule engine on raw bytes: walks the rules of `hook` over the IPv4
 * packet of len bytes at ip (borrowed; rewritten in place by a DNAT rule,
 * so it must be writable) and returns the first match's verdict, or
 * ACCEPT when none matches or the bytes are too short to hold an IPv4
 * header. A match bumps the rule's counters and, when the rule says so,
 * sets *mark; a DNAT match sets *nat_done to true. Does not run the user
 * function.
 */
enum ns_verdict ns__filter_rules_apply(struct ns_filter *f, enum ns_hook hook, uint8_t *ip,
                                       uint32_t len, const struct ns_filter_info *info,
                                       uint32_t *mark, bool *nat_done);

/**
 * The slow path of ns__filter_check(): runs the user function of `hook`,
 * then (unless it dropped) the rules over pkt's data, which must start at
 * the IPv4 header. pkt is borrowed. A matching rule's mark goes to
 * pkt->mark; a DNAT sets NS_PKT_F_NAT_DONE in pkt->flags, first making
 * shared storage private (ns_pkt_make_writable()); if that fails the
 * packet is dropped rather than let through untranslated.
 */
enum ns_verdict ns__filter_run(struct ns_filter *f, enum ns_hook hook, struct ns_pkt *pkt,
                               const struct ns_filter_info *info);

/**
 * True when `hook` has a function or rules. A caller on the hot path tests
 * this first and builds its struct ns_filter_info only when it must.
 */
static inline bool ns__filter_active(const struct ns_filter *f, enum ns_hook hook)
{
        return __builtin_expect((f->active & (1u << hook)) != 0, 0);
}

/**
 * The per-packet entry point at each hook point; see ns__filter_run(). When
 * the point has no function and no rules this is one well-predicted branch.
 * The caller counts a drop in ip.iptables_<point>_dropped and frees pkt.
 */
static inline enum ns_verdict ns__filter_check(struct ns_filter *f, enum ns_hook hook,
                                               struct ns_pkt *pkt,
                                               const struct ns_filter_info *info)
{
        if (__builtin_expect((f->active & (1u << hook)) == 0, 1))
                return NS_VERDICT_ACCEPT;
        return ns__filter_run(f, hook, pkt, info);
}

#endif
