/**
 * @file
 * Allocator hooks. A stack takes all of its memory through these, so an
 * embedder can supply an arena, and tests can inject allocation failures.
 */
#ifndef NETSTACK_ALLOC_H
#define NETSTACK_ALLOC_H

#include <stddef.h>

#include <netstack/export.h>

/** Memory hooks; a NULL struct or NULL functions mean the C library's. */
struct ns_allocator {
        /** Returns size bytes aligned for any type, or NULL on failure. */
        void *(*alloc)(void *ctx, size_t size);
        /** Frees a block returned by alloc; ptr may be NULL. */
        void (*free)(void *ctx, void *ptr);
        /** Passed back to both functions. */
        void *ctx;
};

/** Allocates through a (NULL means malloc). */
NS_API void *ns_alloc(const struct ns_allocator *a, size_t size);

/** Allocates zeroed memory through a. */
NS_API void *ns_zalloc(const struct ns_allocator *a, size_t size);

/** Frees through a (NULL means free). */
NS_API void ns_free(const struct ns_allocator *a, void *ptr);

#endif
