/*
 * Umbrella header: everything an embedder of netstack-c uses.
 */
#ifndef NETSTACK_NETSTACK_H
#define NETSTACK_NETSTACK_H

#include <netstack/export.h>
#include <netstack/err.h>
#include <netstack/addr.h>
#include <netstack/alloc.h>
#include <netstack/checksum.h>

#endif
