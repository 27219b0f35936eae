/**
 * @file
 * TAP and TUN devices (Linux /dev/net/tun) as link endpoints.
 *
 * A TAP device carries Ethernet frames: it is a struct ns_frame_dev, so
 * put the Ethernet link (<netstack/eth.h>) on it, with a MAC of your own
 * (the kernel's side of the device has another). A TUN device carries raw
 * IP packets: it is a plain struct ns_link for ns_nic_create(); the
 * ethertype of a received packet comes from its version nibble.
 *
 * The device is opened by name with IFF_NO_PI and created when missing (it
 * then lasts only while open, as `ip tuntap` devices without `persist`).
 * The descriptor is non-blocking; put ns_tap_fd() in epoll or poll and call
 * ns_tap_receive() when it is readable: it reads until the device is empty
 * or a batch is done. Writes that the device refuses (full queue, device
 * down) are dropped and counted, never retried.
 *
 * Received frames are checked for length by the layer above (the Ethernet
 * link counts giants in nic.malformed_l2, HOSTILE 77); a TUN device drops
 * packets longer than its MTU itself and counts them the same way.
 *
 * Needs CAP_NET_ADMIN to create a device or change its MTU; opening a
 * persistent device owned by the caller does not.
 */
#ifndef NETSTACK_TAP_H
#define NETSTACK_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/alloc.h>
#include <netstack/eth.h>
#include <netstack/link.h>
#include <netstack/pcap.h>
#include <netstack/pkt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What kind of device to open. */
enum ns_tap_kind {
        /** Ethernet frames (IFF_TAP): ns_tap_frame_dev(). */
        NS_TAP_ETHERNET = 0,
        /** Raw IPv4 packets (IFF_TUN): ns_tap_link(). */
        NS_TAP_TUN,
};

/** Frames read per ns_tap_receive() call when the config says 0. */
#define NS_TAP_DEFAULT_BATCH 64

/** How to open a device. Zero-initialise, then fill. */
struct ns_tap_config {
        /** Interface name (required, at most 15 characters). */
        const char *name;
        /** TAP (Ethernet frames, the default) or TUN (raw IPv4). */
        enum ns_tap_kind kind;
        /**
         * MTU to set on the device (network-layer bytes, 68..65535); 0 keeps
         * the device's own (SIOCGIFMTU).
         */
        uint32_t mtu;
        /** Bring the interface up (IFF_UP) after opening it. */
        bool bring_up;
        /** Frames read per ns_tap_receive() call; 0 means NS_TAP_DEFAULT_BATCH. */
        uint32_t batch;
        /**
         * Pool to take receive buffers from. NULL means the pool of the stack
         * above (ns_frame_dev_pool() / ns_link_pool()); give the stack's pool
         * (ns_stack_pool()) when a wrapper such as the pcap sniffer sits
         * between the device and the Ethernet link.
         */
        struct ns_pkt_pool *pool;
        /**
         * When not NULL, every frame read or written is also written to this
         * capture (NS_PCAP_ETHERNET for TAP, NS_PCAP_RAW for TUN), which must
         * outlive the device.
         */
        struct ns_pcap *capture;
};

/** Counters of one device. */
struct ns_tap_stats {
        /** Frames read from the device and handed up. */
        uint64_t rx_frames;
        /** Bytes of those frames. */
        uint64_t rx_bytes;
        /** Frames read and freed: no buffer, nothing attached above, too long (TUN). */
        uint64_t rx_dropped;
        /** Frames written to the device. */
        uint64_t tx_frames;
        /** Bytes of those frames. */
        uint64_t tx_bytes;
        /** Frames the device refused (EAGAIN: queue full; EIO: down). */
        uint64_t tx_dropped;
};

struct ns_tap;

/**
 * Opens (creating when missing) the device cfg->name. Returns 0 and sets
 * *out, or NS_ERR_INVALID_ARGUMENT (no name, name too long, MTU out of
 * range), NS_ERR_ACCESS_DENIED (no permission on /dev/net/tun or to
 * create the device), NS_ERR_NO_DEVICE (no /dev/net/tun, no tun driver),
 * NS_ERR_ALREADY_EXISTS (a device of that name that is not a free TAP/TUN
 * device of this kind), NS_ERR_NO_MEMORY or NS_ERR_IO. On failure, when
 * err is not NULL, a message naming the device and the cause is written
 * to it (NUL-terminated, truncated to errlen bytes).
 */
NS_API int ns_tap_open(const struct ns_allocator *a, const struct ns_tap_config *cfg,
                       struct ns_tap **out, char *err, size_t errlen);

/**
 * Closes the device (a device this call created disappears). Destroy the
 * Ethernet link or remove the NIC above first. NULL is ignored.
 */
NS_API void ns_tap_close(struct ns_tap *t);

/** The frame device of a TAP device (NULL for TUN), for ns_eth_create(). */
NS_API struct ns_frame_dev *ns_tap_frame_dev(struct ns_tap *t);

/** The link of a TUN device (NULL for TAP), for ns_nic_create(). */
NS_API struct ns_link *ns_tap_link(struct ns_tap *t);

/** The non-blocking descriptor to wait on for input (EPOLLIN). */
NS_API int ns_tap_fd(const struct ns_tap *t);

/** The interface name. */
NS_API const char *ns_tap_name(const struct ns_tap *t);

/** The device MTU in effect (network-layer bytes). */
NS_API uint32_t ns_tap_mtu(const struct ns_tap *t);

/**
 * Reads frames until the device is empty or a batch is done and delivers
 * each up. Returns the number of frames read (the batch size means more
 * may be waiting), or NS_ERR_IO when the device failed.
 */
NS_API int ns_tap_receive(struct ns_tap *t);

/** Copies the device's counters out. */
NS_API void ns_tap_get_stats(const struct ns_tap *t, struct ns_tap_stats *out);

#ifdef __cplusplus
}
#endif

#endif
