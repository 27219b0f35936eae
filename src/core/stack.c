/*
 * Stack lifetime, modules, protocol registration and the timer poll.
 */
#include <string.h>

#include "core/rng.h"
#include <netstack/err.h>

#include "core/stack.h"

void ns_stack_config_init(struct ns_stack_config *cfg)
{
        memset(cfg, 0, sizeof(*cfg));
        cfg->handle_local = true;
}

static void detach_modules(struct ns_stack *s)
{
        while (s->n_modules > 0) {
                const struct ns_module *m = s->modules[--s->n_modules];
                if (m->detach)
                        m->detach(s);
        }
}

int ns_stack_create(const struct ns_stack_config *cfg, struct ns_stack **out)
{
        if (!cfg || !out || !cfg->clock.now_ns || !cfg->rng.fill)
                return NS_ERR_INVALID_ARGUMENT;
        size_t nmod = 0;
        if (cfg->modules)
                while (cfg->modules[nmod])
                        nmod++;
        if (nmod > NS_STACK_MAX_MODULES)
                return NS_ERR_INVALID_ARGUMENT;

        struct ns_stack *s = ns_zalloc(cfg->alloc, sizeof(*s));
        if (!s)
                return NS_ERR_NO_MEMORY;
        if (cfg->alloc)
                s->alloc = *cfg->alloc;
        s->clock = cfg->clock;
        s->rng = cfg->rng;
        s->handle_local = cfg->handle_local;
        ns__timer_heap_init(&s->timers, &s->alloc);
        ns__route_table_init(&s->routes, &s->alloc);

        int err = NS_ERR_NO_MEMORY;
        s->pool = ns_pkt_pool_create(&s->alloc, &cfg->pool);
        if (!s->pool)
                goto fail;
        err = ns__filter_init(&s->filter, &s->alloc);
        if (err)
                goto fail_pool;
        err = ns__icmp_rl_init(&s->icmp_rl, &s->alloc, cfg->icmp_ratelimit, ns__stack_now(s),
                               ns__rng_u64(&s->rng));
        if (err)
                goto fail_filter;

        for (size_t i = 0; i < nmod; i++) {
                const struct ns_module *m = cfg->modules[i];
                if (m->attach) {
                        err = m->attach(s);
                        if (err) {
                                detach_modules(s);
                                goto fail_rl;
                        }
                }
                s->modules[s->n_modules++] = m;
        }
        *out = s;
        return 0;

fail_rl:
        ns__icmp_rl_destroy(&s->icmp_rl);
fail_filter:
        ns__filter_destroy(&s->filter);
fail_pool:
        ns_pkt_pool_destroy(s->pool);
fail:
        ns__route_table_destroy(&s->routes);
        ns__timer_heap_destroy(&s->timers);
        ns_free(&s->alloc, s);
        return err;
}

void ns_stack_destroy(struct ns_stack *s)
{
        if (!s)
                return;
        /* NICs go first so endpoints see their protocols still attached. */
        for (uint32_t id = 0; id < s->nic_cap; id++)
                if (s->nics[id])
                        ns_nic_remove(s, id);
        detach_modules(s);
        ns__icmp_rl_destroy(&s->icmp_rl);
        ns__filter_destroy(&s->filter);
        ns__route_table_destroy(&s->routes);
        ns__timer_heap_destroy(&s->timers);
        ns_free(&s->alloc, s->nics);
        ns_pkt_pool_destroy(s->pool);
        ns_free(&s->alloc, s);
}

int64_t ns_stack_poll(struct ns_stack *s)
{
        return ns__timer_heap_run(&s->timers, ns__stack_now(s));
}

struct ns_pkt_pool *ns_stack_pool(struct ns_stack *s)
{
        return s->pool;
}

/* The stack's own counters (events without a NIC, removed NICs) plus every
 * live NIC's: the per-packet path bumps only the NIC's (core/stats.h). */
void ns_stack_get_stats(const struct ns_stack *s, struct ns_stats *out)
{
        *out = s->stats;
        for (uint32_t i = 0; i < s->nic_end; i++)
                if (s->nics[i])
                        ns_stats_add(out, &s->nics[i]->stats);
}

int ns__stack_register_netproto(struct ns_stack *s, const struct ns_netproto *p)
{
        for (unsigned i = 0; i < s->n_netprotos; i++)
                if (s->netprotos[i].ethertype == p->ethertype)
                        return NS_ERR_ALREADY_EXISTS;
        if (s->n_netprotos == NS_MAX_NETPROTOS)
                return NS_ERR_NO_BUFFER_SPACE;
        unsigned slot = s->n_netprotos;
        s->netprotos[slot] = *p;
        s->n_netprotos++;
        /* Endpoints for NICs created before the protocol. */
        for (uint32_t id = 0; id < s->nic_cap; id++) {
                struct ns_nic *nic = s->nics[id];
                if (!nic)
                        continue;
                if (p->nic_add) {
                        int err = p->nic_add(p->ctx, nic, slot);
                        if (err)
                                return err;
                }
                if (nic->enabled && p->nic_enable)
                        p->nic_enable(p->ctx, nic, slot);
        }
        return (int)slot;
}

int ns__stack_register_transport(struct ns_stack *s, uint8_t proto,
                                 const struct ns_transport_handler *h)
{
        if (s->transport[proto].deliver)
                return NS_ERR_ALREADY_EXISTS;
        s->transport[proto] = *h;
        return 0;
}

void ns__stack_unregister_transport(struct ns_stack *s, uint8_t proto)
{
        memset(&s->transport[proto], 0, sizeof(s->transport[proto]));
}
