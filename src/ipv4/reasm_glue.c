/*
 * The IPv4 side of reassembly: the stack timer that expires datagrams, and
 * the ICMP time exceeded (code 1) sent when a datagram whose first fragment
 * arrived times out (RFC 792, RFC 1122 3.3.2). Unlike the seed, ICMP
 * datagrams get one too, as Linux sends: the stored first fragment shows
 * whether it is an error, and ns__icmp4_send_error() refuses those.
 */
#include <netstack/err.h>

#include "core/rng.h"
#include "ipv4/ipv4.h"
#include "ipv4/reasm.h"
#include "wire/icmp4.h"

static void on_timeout(void *ctx, const struct ns_reasm_key *key, const struct ns_pkt *first)
{
        (void)key;
        struct ns_ipv4 *p = ctx;
        if (!first)
                return;
        struct ns_icmp_reason why = { .type = NS_ICMP4_TIME_EXCEEDED,
                                      .code = NS_ICMP4_REASSEMBLY_TIMEOUT };
        (void)ns__icmp4_send_error(p, &why, first);
}

static void reasm_timer_fired(void *arg)
{
        struct ns_ipv4 *p = arg;
        ns__reasm_expire(p->reasm, ns__stack_now(p->s), on_timeout, p);
        ns__ipv4_reasm_arm(p);
}

void ns__ipv4_reasm_arm(struct ns_ipv4 *p)
{
        int64_t next = ns__reasm_next_expiry(p->reasm);
        if (next == INT64_MAX) {
                ns__timer_cancel(&p->s->timers, &p->reasm_timer);
                return;
        }
        if (!ns__timer_armed(&p->reasm_timer) || p->reasm_timer.deadline_ns != next)
                (void)ns__timer_arm(&p->s->timers, &p->reasm_timer, next);
}

int ns__ipv4_reasm_init(struct ns_ipv4 *p)
{
        ns__timer_init(&p->reasm_timer, reasm_timer_fired, p);
        p->reasm = ns__reasm_create(&p->s->alloc, p->s->pool, NULL, ns__rng_u64(&p->s->rng),
                                    &p->s->stats.ip);
        return p->reasm ? 0 : NS_ERR_NO_MEMORY;
}

void ns__ipv4_reasm_fini(struct ns_ipv4 *p)
{
        ns__timer_cancel(&p->s->timers, &p->reasm_timer);
        ns__reasm_destroy(p->reasm);
        p->reasm = NULL;
}

int ns_ipv4_reasm_in_flight(const struct ns_stack *s, uint32_t *datagrams, uint64_t *bytes)
{
        const struct ns_ipv4 *p = ns__ipv4_of(s);
        if (!p || !p->reasm)
                return NS_ERR_INVALID_ENDPOINT_STATE;
        if (datagrams)
                *datagrams = ns__reasm_datagrams_held(p->reasm);
        if (bytes)
                *bytes = ns__reasm_bytes_held(p->reasm);
        return 0;
}
