/**
 * @file
 * Packet captures in the pcap format (libpcap's savefile), readable by
 * tcpdump and Wireshark.
 *
 * A struct ns_pcap is one capture file of one link type: Ethernet frames
 * (LINKTYPE_ETHERNET, 1) or raw IP packets (LINKTYPE_RAW, 101). Records are
 * stamped with the wall time of the clock given at open (the stack's clock,
 * so a replay on a manual clock gives the same file every time), in
 * microseconds.
 *
 * The sniffer (struct ns_pcap_dev) is a frame device that wraps another:
 * put the Ethernet link on the sniffer instead of on the device, and every
 * frame going down and every frame coming up is written to the capture
 * before it passes. The wrapped device must take its receive buffers from
 * the stack's pool directly (a TAP device configured with
 * ns_tap_config.pool, or a device that allocates from ns_stack_pool()),
 * since the pool it would find through ns_frame_dev_pool() is the
 * sniffer's. TAP and TUN devices can also capture themselves
 * (ns_tap_config.capture), which is how a TUN link is sniffed.
 *
 * Capture files are written through stdio buffers: ns_pcap_flush() pushes
 * them out, ns_pcap_close() flushes and closes.
 */
#ifndef NETSTACK_PCAP_H
#define NETSTACK_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/alloc.h>
#include <netstack/clock.h>
#include <netstack/eth.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Link types of a capture (the pcap LINKTYPE_ values). */
enum ns_pcap_linktype {
        NS_PCAP_ETHERNET = 1,
        NS_PCAP_RAW = 101,
};

/** Largest record kept whole; longer frames are truncated in the file. */
#define NS_PCAP_SNAPLEN 262144

struct ns_pcap;

/**
 * Creates (truncating) a capture file at path. The clock is copied; what
 * its ctx points to must outlive the capture. Returns 0 and sets *out, or
 * NS_ERR_INVALID_ARGUMENT (no path, unknown link type, no wall clock),
 * NS_ERR_NO_MEMORY, NS_ERR_IO (the file cannot be created; err, when not
 * NULL, receives libpcap's message, NUL-terminated within errlen bytes).
 */
NS_API int ns_pcap_open(const struct ns_allocator *a, const char *path,
                        enum ns_pcap_linktype linktype, struct ns_clock clock, struct ns_pcap **out,
                        char *err, size_t errlen);

/** Writes one record stamped with the clock's wall time now. */
NS_API void ns_pcap_write(struct ns_pcap *pc, const void *data, uint32_t len);

/** Writes one record stamped wall_ns (UTC nanoseconds since the epoch). */
NS_API void ns_pcap_write_at(struct ns_pcap *pc, int64_t wall_ns, const void *data, uint32_t len);

/** Flushes buffered records to the file. 0 or NS_ERR_IO. */
NS_API int ns_pcap_flush(struct ns_pcap *pc);

/** Records written so far. */
NS_API uint64_t ns_pcap_records(const struct ns_pcap *pc);

/** Flushes and closes the file. NULL is ignored. */
NS_API void ns_pcap_close(struct ns_pcap *pc);

/* ---- the sniffer: a frame device wrapping another -------------------- */

struct ns_pcap_dev;

/**
 * Wraps lower (which must outlive the sniffer and have nothing above it)
 * so that every frame through it is written to pc (an NS_PCAP_ETHERNET
 * capture, which must outlive the sniffer). Several sniffers may share one
 * capture. NULL when lower is unusable, pc is not an Ethernet capture, or
 * allocation fails.
 */
NS_API struct ns_pcap_dev *ns_pcap_dev_create(const struct ns_allocator *a,
                                              struct ns_frame_dev *lower, struct ns_pcap *pc);

/** The device to put the Ethernet link on (ns_eth_create()). */
NS_API struct ns_frame_dev *ns_pcap_dev_frame_dev(struct ns_pcap_dev *d);

/** Frees the sniffer (destroy the Ethernet link first). NULL is ignored. */
NS_API void ns_pcap_dev_destroy(struct ns_pcap_dev *d);

#ifdef __cplusplus
}
#endif

#endif
