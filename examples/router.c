/*
 * router: netstack-c as an IPv4 router between two TAP devices, with a
 * static route, forwarding on, and its counters printed on SIGUSR1 (and at
 * exit, on SIGINT or SIGTERM).
 *
 *   ./router tapL 192.0.2.2/24 tapR 198.51.100.2/24 [DEST/PREFIX GATEWAY]
 *   kill -USR1 <pid>      # prints the counters that are not zero
 *
 * Each TAP device carries Ethernet frames, so each NIC is an Ethernet link
 * over the device, and ARP resolves next hops.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction() under -std=c11 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netstack/netstack.h>

static volatile sig_atomic_t got_usr1, got_stop;

static void on_signal(int sig)
{
        if (sig == SIGUSR1)
                got_usr1 = 1;
        else
                got_stop = 1;
}

static bool parse_prefix(char *text, struct ns_ip4_prefix *out)
{
        char *slash = strchr(text, '/');
        if (!slash)
                return false;
        *slash = '\0';
        out->prefix_len = (uint8_t)atoi(slash + 1);
        return out->prefix_len <= 32 && ns_ip4_parse(text, &out->addr);
}

static void print_counter(const char *group, const char *name, const char *mib, uint64_t value,
                          void *ctx)
{
        char dotted[64];
        (void)mib;
        (void)ctx;
        snprintf(dotted, sizeof dotted, "%s.%s", group, name);
        if (value != 0)
                printf("  %-44s %llu\n", dotted, (unsigned long long)value);
}

int main(int argc, char **argv)
{
        struct ns_ip4_prefix addr[2], dest;
        ns_ip4 gateway = 0;
        if ((argc != 5 && argc != 7) || !parse_prefix(argv[2], &addr[0]) ||
            !parse_prefix(argv[4], &addr[1]) ||
            (argc == 7 && (!parse_prefix(argv[5], &dest) || !ns_ip4_parse(argv[6], &gateway)))) {
                fprintf(stderr, "usage: router TAP1 ADDR1/PREFIX TAP2 ADDR2/PREFIX "
                                "[DEST/PREFIX GATEWAY]\n");
                return 2;
        }

        /* IPv4 with ARP under it; forwarding is a parameter of IPv4. */
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_system_clock();
        cfg.rng = ns_system_rng();
        const struct ns_module *const modules[] = { &ns_module_ipv4, &ns_module_arp, NULL };
        cfg.modules = modules;
        struct ns_stack *s;
        if (ns_stack_create(&cfg, &s) != 0 ||
            ns_ipv4_set_param(s, NS_IPV4_PARAM_FORWARDING, 1) != 0)
                return 1;

        /* NIC i + 1: an Ethernet link with a random local MAC over TAP i. */
        struct ns_tap *tap[2];
        struct ns_eth *eth[2];
        for (int i = 0; i < 2; i++) {
                char err[256];
                uint8_t mac[6];
                struct ns_tap_config tc = { .name = argv[1 + 2 * i], .bring_up = true };
                if (ns_tap_open(NULL, &tc, &tap[i], err, sizeof err) != 0) {
                        fprintf(stderr, "router: %s\n", err);
                        return 1;
                }
                cfg.rng.fill(cfg.rng.ctx, mac, sizeof mac);
                mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
                eth[i] = ns_eth_create(NULL, ns_tap_frame_dev(tap[i]), mac);
                if (!eth[i] || ns_nic_create(s, (uint32_t)i + 1, ns_eth_link(eth[i]), NULL) != 0 ||
                    ns_nic_add_address(s, (uint32_t)i + 1, addr[i]) != 0)
                        return 1;
        }

        /* The static route leaves by the NIC whose subnet holds the gateway. */
        if (gateway) {
                struct ns_route_entry r = { .dst = dest, .gateway = gateway };
                ns_ip4 mask = ns_ip4_mask(addr[0].prefix_len);
                r.nic_id = (gateway & mask) == (addr[0].addr & mask) ? 1 : 2;
                int rc = ns_route_add(s, &r);
                if (rc != 0) {
                        fprintf(stderr, "router: route: %s\n", ns_strerror(rc));
                        return 1;
                }
        }

        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGUSR1, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        printf("ready\n");
        fflush(stdout);

        /* Sleep until a device is readable or the next timer is due. */
        while (!got_stop) {
                int64_t deadline = ns_stack_poll(s), now = cfg.clock.now_ns(cfg.clock.ctx);
                int64_t ms = deadline <= now ? 0 : (deadline - now) / 1000000 + 1;
                struct pollfd p[2] = { { .fd = ns_tap_fd(tap[0]), .events = POLLIN },
                                       { .fd = ns_tap_fd(tap[1]), .events = POLLIN } };
                if (poll(p, 2, ms > 1000 ? 1000 : (int)ms) < 0 && errno != EINTR)
                        return 1;
                for (int i = 0; i < 2; i++)
                        if (p[i].revents & POLLIN)
                                ns_tap_receive(tap[i]);
                if (got_usr1 || got_stop) {
                        got_usr1 = 0;
                        struct ns_stats st;
                        ns_stack_get_stats(s, &st);
                        printf("counters:\n");
                        ns_stats_foreach(&st, print_counter, NULL);
                        fflush(stdout);
                }
        }
        for (int i = 0; i < 2; i++) {
                ns_nic_remove(s, (uint32_t)i + 1);
                ns_eth_destroy(eth[i]);
                ns_tap_close(tap[i]);
        }
        ns_stack_destroy(s);
        return 0;
}
