/* The manual clock (<netstack/clock.h>): time that moves only when told. */
#include <netstack/clock.h>

static int64_t manual_now(void *ctx)
{
        const struct ns_manual_clock *c = ctx;
        return c->mono_ns;
}

static int64_t manual_wall(void *ctx)
{
        const struct ns_manual_clock *c = ctx;
        return c->wall_ns;
}

void ns_manual_clock_init(struct ns_manual_clock *c, int64_t mono_ns, int64_t wall_ns)
{
        c->mono_ns = mono_ns;
        c->wall_ns = wall_ns;
}

struct ns_clock ns_manual_clock_as_clock(struct ns_manual_clock *c)
{
        struct ns_clock clock = { .now_ns = manual_now, .wall_ns = manual_wall, .ctx = c };
        return clock;
}

/* Saturates instead of overflowing, so a test that advances "forever"
 * (INT64_MAX) stays well defined. */
static int64_t add_sat(int64_t a, int64_t b)
{
        return a > INT64_MAX - b ? INT64_MAX : a + b;
}

void ns_manual_clock_advance(struct ns_manual_clock *c, int64_t delta_ns)
{
        if (delta_ns <= 0)
                return;
        c->mono_ns = add_sat(c->mono_ns, delta_ns);
        c->wall_ns = add_sat(c->wall_ns, delta_ns);
}
