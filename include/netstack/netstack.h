/**
 * @file
 * Umbrella header: everything an embedder of netstack-c uses.
 */
#ifndef NETSTACK_NETSTACK_H
#define NETSTACK_NETSTACK_H

#include <netstack/export.h>
#include <netstack/version.h>
#include <netstack/err.h>
#include <netstack/addr.h>
#include <netstack/alloc.h>
#include <netstack/checksum.h>
#include <netstack/clock.h>
#include <netstack/rng.h>
#include <netstack/sys.h>
#include <netstack/pkt.h>
#include <netstack/stats.h>
#include <netstack/filter.h>
#include <netstack/link.h>
#include <netstack/channel.h>
#include <netstack/ratelimit.h>
#include <netstack/stack.h>
#include <netstack/ipv4.h>
#include <netstack/igmp.h>
#include <netstack/udp.h>
#include <netstack/ping.h>
#include <netstack/raw.h>
#include <netstack/eth.h>
#include <netstack/arp.h>
#include <netstack/tap.h>
#include <netstack/pcap.h>

#endif
