/*
 * The netstack command: options shared by `run` and `replay`, and the
 * stack they build from them. Public headers only (DESIGN.md, "Layers").
 */
#ifndef NS_TOOLS_CLI_H
#define NS_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <netstack/netstack.h>
#include <netstack/pcap.h>

#define CLI_MAX_IFACES 8
#define CLI_MAX_ADDRS  4
#define CLI_MAX_ITEMS  64
#define CLI_NAME_MAX   16

/** Exit codes: 0 success, 1 runtime failure, 2 usage error. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

struct cli_iface {
        char name[CLI_NAME_MAX];
        struct ns_ip4_prefix addrs[CLI_MAX_ADDRS];
        size_t n_addrs;
        /** From --mtu (default 1500). */
        uint32_t mtu;
        /** Replay: the capture fed to this interface (--in), or NULL. */
        const char *in_file;
};

struct cli_route {
        struct ns_ip4_prefix dst;
        ns_ip4 gateway;
        char nic[CLI_NAME_MAX];
};

struct cli_neigh {
        ns_ip4 addr;
        uint8_t mac[6];
        char nic[CLI_NAME_MAX];
};

struct cli_join {
        ns_ip4 group;
        char nic[CLI_NAME_MAX];
};

/** Everything the command line says. */
struct cli_opts {
        struct cli_iface ifaces[CLI_MAX_IFACES];
        size_t n_ifaces;
        bool forward;
        /** UDP echo port, 0 for none. */
        uint16_t udp_echo;
        struct cli_route routes[CLI_MAX_ITEMS];
        size_t n_routes;
        struct cli_neigh neighs[CLI_MAX_ITEMS];
        size_t n_neighs;
        struct cli_join joins[CLI_MAX_ITEMS];
        size_t n_joins;
        const char *pcap_path;
        const char *stats_path;
        /** run only: a status line on stderr every second (--verbose). */
        bool verbose;
        /* replay only */
        const char *in_path;
        const char *out_path;
        int64_t drain_ns;
        uint64_t seed;
};

/** What a subcommand accepts beyond the shared flags. */
enum cli_mode { CLI_RUN, CLI_REPLAY };

/**
 * Parses argv (argv[0] is the subcommand's name) into o. Returns 0, 1 when
 * --help was printed, or -1 after printing an error to stderr.
 */
int cli_parse(enum cli_mode mode, int argc, char **argv, struct cli_opts *o);

/** Prints the help of a subcommand. */
void cli_usage_run(FILE *f);
void cli_usage_replay(FILE *f);

/** The stack the command drives: one NIC per interface, Ethernet or raw IP. */
struct cli_stack {
        struct ns_stack *s;
        /** Per interface: the device under the Ethernet link (not owned; NULL for raw IP). */
        struct ns_frame_dev *dev[CLI_MAX_IFACES];
        /** Per interface: the pcap sniffer, when capturing through one. */
        struct ns_pcap_dev *sniff[CLI_MAX_IFACES];
        struct ns_eth *eth[CLI_MAX_IFACES];
        size_t n;
        /** Echo endpoints: one per unicast address, one wildcard for groups. */
        struct ns_udp_ep *echo[CLI_MAX_IFACES * CLI_MAX_ADDRS + 1];
        size_t n_echo;
        struct ns_rng rng;
};

/** Creates the stack with ipv4, arp, udp, ping and raw. 0 or -1 (printed). */
int cli_stack_create(struct cli_stack *cs, struct ns_clock clock, struct ns_rng rng);

/**
 * Adds interface i over dev (through a sniffer writing to capture when
 * capture is not NULL): an Ethernet link with a random locally
 * administered MAC, NIC id i + 1, its addresses. 0 or -1 (printed).
 */
int cli_stack_add_iface(struct cli_stack *cs, const struct cli_opts *o, size_t i,
                        struct ns_frame_dev *dev, struct ns_pcap *capture, bool promiscuous);

/**
 * Adds interface i straight on link (no Ethernet, no ARP: a raw-IP link
 * such as TUN or an in-memory channel): NIC id i + 1, its addresses. The
 * link is not owned. 0 or -1 (printed).
 */
int cli_stack_add_link(struct cli_stack *cs, const struct cli_opts *o, size_t i,
                       struct ns_link *link);

/** Forwarding, routes, static neighbours, joins, echo service. 0 or -1 (printed). */
int cli_stack_configure(struct cli_stack *cs, const struct cli_opts *o);

/** Writes every counter as one line of JSON to path (atomically). 0 or -1 (printed). */
int cli_write_stats(struct cli_stack *cs, const char *path);

/** Destroys the stack, the Ethernet links and the sniffers (not the devices). */
void cli_stack_destroy(struct cli_stack *cs);

/** Subcommands. */
int cli_run(int argc, char **argv);
int cli_replay(int argc, char **argv);

#endif
