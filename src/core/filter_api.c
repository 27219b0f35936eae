/* The public filter API (<netstack/filter.h>) over the stack's filter. */
#include <netstack/filter.h>

#include "core/stack.h"

int ns_filter_set_hook(struct ns_stack *s, enum ns_hook hook, ns_filter_hook_fn fn, void *ctx)
{
        return ns__filter_set_hook(&s->filter, hook, fn, ctx);
}

int ns_filter_add_rule(struct ns_stack *s, enum ns_hook hook, const struct ns_filter_rule *rule,
                       uint32_t *id)
{
        uint32_t tmp;
        return ns__filter_add_rule(&s->filter, hook, rule, id ? id : &tmp);
}

int ns_filter_del_rule(struct ns_stack *s, uint32_t id)
{
        return ns__filter_del_rule(&s->filter, id);
}

void ns_filter_flush(struct ns_stack *s, enum ns_hook hook)
{
        ns__filter_flush(&s->filter, hook);
}

size_t ns_filter_list_rules(const struct ns_stack *s, enum ns_hook hook, struct ns_filter_rule *out,
                            size_t cap)
{
        return ns__filter_list_rules(&s->filter, hook, out, cap);
}
