/*
 * tun_ping: attach netstack-c to a TUN device and answer ping.
 *
 *   ip tuntap add dev tun0 mode tun   # or let the program create it
 *   ./tun_ping tun0 192.0.2.2/24 [SECONDS]
 *   ip addr add 192.0.2.1/24 dev tun0 && ping 192.0.2.2
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netstack/netstack.h>

int main(int argc, char **argv)
{
        struct ns_ip4_prefix addr;
        char *slash = argc > 2 ? strchr(argv[2], '/') : NULL;
        if (!slash) {
                fprintf(stderr, "usage: tun_ping DEVICE ADDRESS/PREFIX [SECONDS]\n");
                return 2;
        }
        *slash = '\0';
        addr.prefix_len = (uint8_t)atoi(slash + 1);
        if (!ns_ip4_parse(argv[2], &addr.addr))
                return 2;

        /* A stack on the real clock and RNG, with IPv4 (which answers ping). */
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_system_clock();
        cfg.rng = ns_system_rng();
        const struct ns_module *const modules[] = { &ns_module_ipv4, NULL };
        cfg.modules = modules;
        struct ns_stack *s;
        if (ns_stack_create(&cfg, &s) != 0)
                return 1;

        /* The TUN device carries raw IP: it is the NIC's link directly. */
        char err[256];
        struct ns_tap *tun;
        struct ns_tap_config tc = { .name = argv[1], .kind = NS_TAP_TUN, .bring_up = true };
        if (ns_tap_open(NULL, &tc, &tun, err, sizeof err) != 0) {
                fprintf(stderr, "tun_ping: %s\n", err);
                return 1;
        }
        if (ns_nic_create(s, 1, ns_tap_link(tun), NULL) != 0 || ns_nic_add_address(s, 1, addr) != 0)
                return 1;
        printf("ready\n");
        fflush(stdout);

        /* Read what arrives, fire timers; forever, or for SECONDS. */
        int rounds = argc > 3 ? atoi(argv[3]) * 10 : -1;
        for (int i = 0; rounds < 0 || i < rounds; i++) {
                struct pollfd p = { .fd = ns_tap_fd(tun), .events = POLLIN };
                (void)poll(&p, 1, 100);
                ns_tap_receive(tun);
                ns_stack_poll(s);
        }
        struct ns_stats st;
        ns_stack_get_stats(s, &st);
        printf("echo replies sent: %llu\n", (unsigned long long)st.icmp.sent_echo_reply);
        ns_nic_remove(s, 1);
        ns_tap_close(tun);
        ns_stack_destroy(s);
        return 0;
}
