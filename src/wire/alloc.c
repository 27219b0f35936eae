/* Allocator hook dispatch (<netstack/alloc.h>). */
#include <stdlib.h>
#include <string.h>

#include <netstack/alloc.h>

void *ns_alloc(const struct ns_allocator *a, size_t size)
{
        if (a && a->alloc)
                return a->alloc(a->ctx, size);
        return malloc(size);
}

void *ns_zalloc(const struct ns_allocator *a, size_t size)
{
        void *p = ns_alloc(a, size);
        if (p)
                memset(p, 0, size);
        return p;
}

void ns_free(const struct ns_allocator *a, void *ptr)
{
        if (!ptr)
                return;
        if (a && a->free)
                a->free(a->ctx, ptr);
        else
                free(ptr);
}
