/**
 * @file
 * Packet filter hooks: the five netfilter hook points of IPv4 (Linux's
 * NF_INET_PRE_ROUTING ... NF_INET_POST_ROUTING, gVisor's stack.Hook), each
 * with one user function slot and a list of built-in rules.
 *
 * At each hook point the stack first calls the user function, if one is
 * set, then walks the rules of that point in order; the first rule that
 * matches decides, and a packet no rule matches is accepted. A point with
 * neither costs the packet one predictable branch.
 *
 * Where the hook points sit (DESIGN.md, "The path of a packet"):
 *   PREROUTING  every received packet, before header validation and the
 *               routing decision (so a hook may see malformed packets);
 *   INPUT       packets addressed to us, before reassembly;
 *   FORWARD     packets being forwarded, after the route lookup;
 *   OUTPUT      locally generated packets, after the header is built;
 *   POSTROUTING every packet leaving by a NIC, before fragmentation.
 * A packet dropped at a point is counted in ip.iptables_<point>_dropped.
 */
#ifndef NETSTACK_FILTER_H
#define NETSTACK_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netstack/export.h>
#include <netstack/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ns_pkt;

/** The hook points. */
enum ns_hook {
        NS_HOOK_PREROUTING,
        NS_HOOK_INPUT,
        NS_HOOK_FORWARD,
        NS_HOOK_OUTPUT,
        NS_HOOK_POSTROUTING,
        NS_HOOK_COUNT
};

/** What a hook function or rule decides. */
enum ns_verdict {
        NS_VERDICT_ACCEPT, /**< let the packet continue */
        NS_VERDICT_DROP,   /**< free and count it */
};

/** Where a packet is, passed to hook functions and matched by rules. */
struct ns_filter_info {
        /** The hook point the packet is at. */
        enum ns_hook hook;
        /** NIC the packet arrived on (0 on OUTPUT, where none). */
        uint32_t in_nic;
        /** NIC the packet leaves by (0 before the routing decision). */
        uint32_t out_nic;
        const char *in_name, /**< name of in_nic, or NULL */
            *out_name;       /**< name of out_nic, or NULL */
};

/**
 * A user hook function. pkt is borrowed for the call: its data starts at
 * the IPv4 header, and the function may read it, rewrite bytes in place
 * (after ns_pkt_make_writable(), and keeping the header checksum right),
 * and set pkt->mark, but must not free it, keep it, or change its length.
 * info is valid for the call only. Returns the verdict; a drop ends the
 * packet's walk through that point without running the rules.
 */
typedef enum ns_verdict (*ns_filter_hook_fn)(void *ctx, struct ns_pkt *pkt,
                                             const struct ns_filter_info *info);

/** What a matching rule does. */
enum ns_filter_action {
        NS_FILTER_ACCEPT, /**< accept; later rules are not consulted */
        NS_FILTER_DROP,   /**< drop */
        /**
         * Rewrite the destination to nat_addr (and, for UDP and TCP when
         * nat_port is not 0, the destination port to nat_port), fixing the
         * IPv4 header checksum and the UDP/TCP checksum incrementally
         * (RFC 1624; a UDP checksum of 0, "none", stays 0, RFC 768), then
         * accept. The packet is flagged NS_PKT_F_NAT_DONE. As in Linux's nat
         * table, only PREROUTING and OUTPUT accept DNAT rules. Stateless:
         * replies are not translated back.
         */
        NS_FILTER_DNAT,
};

/**
 * A built-in rule. Zero fields match anything: a prefix of length 0, a
 * protocol of 0, a NIC id of 0.
 */
struct ns_filter_rule {
        struct ns_ip4_prefix src, /**< source prefix to match (/0: any) */
            dst;                  /**< destination prefix to match (/0: any) */
        /** IP protocol number to match (6 TCP, 17 UDP, 1 ICMP); 0 any. */
        uint8_t protocol;
        uint32_t in_nic, /**< input NIC id to match; 0 any */
            out_nic;     /**< output NIC id to match; 0 any */
        /** What to do on a match. */
        enum ns_filter_action action;
        /** NS_FILTER_DNAT: the new destination address. */
        ns_ip4 nat_addr;
        /** NS_FILTER_DNAT: the new destination port (0 keeps it). */
        uint16_t nat_port;
        /** When set_mark is true a match sets the packet's mark to mark. */
        bool set_mark;
        /** The mark a match sets when set_mark is true. */
        uint32_t mark;

        /* Filled in by the stack; ignored when adding a rule. */
        /** Identifier returned when the rule was added. */
        uint32_t id;
        uint64_t packets, /**< packets the rule matched */
            bytes;        /**< bytes the rule matched, IPv4 header included */
};

struct ns_stack;

/**
 * Sets (fn non-NULL) or clears (fn NULL) the hook function of a hook point.
 * It runs before the point's rules; ctx is passed back. 0 or
 * NS_ERR_INVALID_ARGUMENT for a bad hook.
 */
NS_API int ns_filter_set_hook(struct ns_stack *s, enum ns_hook hook, ns_filter_hook_fn fn,
                              void *ctx);

/**
 * Appends a rule to a hook point's list; *id (may be NULL) receives its id.
 * NS_ERR_INVALID_ARGUMENT (DNAT outside PREROUTING/OUTPUT, bad prefixes),
 * NS_ERR_NO_MEMORY.
 */
NS_API int ns_filter_add_rule(struct ns_stack *s, enum ns_hook hook,
                              const struct ns_filter_rule *rule, uint32_t *id);

/** Deletes a rule by id. NS_ERR_NOT_FOUND. */
NS_API int ns_filter_del_rule(struct ns_stack *s, uint32_t id);

/** Removes every rule of a hook point. */
NS_API void ns_filter_flush(struct ns_stack *s, enum ns_hook hook);

/**
 * Copies up to cap rules of a hook point, in order and with their counters,
 * into out; returns how many there are.
 */
NS_API size_t ns_filter_list_rules(const struct ns_stack *s, enum ns_hook hook,
                                   struct ns_filter_rule *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
