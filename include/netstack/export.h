/**
 * @file
 * Symbol visibility for the public API. The library is built with hidden
 * visibility; only declarations marked NS_API are exported from the shared
 * object.
 */
#ifndef NETSTACK_EXPORT_H
#define NETSTACK_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
/** Marks a function or object as part of the exported, stable API. */
#define NS_API __attribute__((visibility("default")))
#else
#define NS_API
#endif

#endif
