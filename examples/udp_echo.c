/*
 * udp_echo: a UDP echo service (RFC 862) on netstack-c's UDP endpoints,
 * behind a TUN device. Every datagram to PORT goes back to its sender.
 *
 *   ./udp_echo tun0 192.0.2.2/24 7 [SECONDS]
 *   ip addr add 192.0.2.1/24 dev tun0
 *   echo hello | socat - UDP:192.0.2.2:7
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netstack/netstack.h>

/* Runs inside ns_tap_receive(): d and its bytes are borrowed for the call. */
static void echo(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_datagram *d)
{
        unsigned long *echoed = ctx;
        if (ns_udp_send(ep, d->src, d->src_port, d->data, d->len) == 0)
                (*echoed)++;
}

int main(int argc, char **argv)
{
        struct ns_ip4_prefix addr;
        char *slash = argc > 3 ? strchr(argv[2], '/') : NULL;
        int port = argc > 3 ? atoi(argv[3]) : 0;
        if (!slash || port < 1 || port > 65535) {
                fprintf(stderr, "usage: udp_echo DEVICE ADDRESS/PREFIX PORT [SECONDS]\n");
                return 2;
        }
        *slash = '\0';
        addr.prefix_len = (uint8_t)atoi(slash + 1);
        if (!ns_ip4_parse(argv[2], &addr.addr))
                return 2;

        /* IPv4 (which also answers ping) and UDP on top of it. */
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = ns_system_clock();
        cfg.rng = ns_system_rng();
        const struct ns_module *const modules[] = { &ns_module_ipv4, &ns_module_udp, NULL };
        cfg.modules = modules;
        struct ns_stack *s;
        if (ns_stack_create(&cfg, &s) != 0)
                return 1;

        char err[256];
        struct ns_tap *tun;
        struct ns_tap_config tc = { .name = argv[1], .kind = NS_TAP_TUN, .bring_up = true };
        if (ns_tap_open(NULL, &tc, &tun, err, sizeof err) != 0) {
                fprintf(stderr, "udp_echo: %s\n", err);
                return 1;
        }
        if (ns_nic_create(s, 1, ns_tap_link(tun), NULL) != 0 || ns_nic_add_address(s, 1, addr) != 0)
                return 1;

        /* One endpoint on our address and PORT; replies leave from it. */
        unsigned long echoed = 0;
        struct ns_udp_ep *ep;
        int rc = ns_udp_open(s, &ep);
        if (rc == 0)
                rc = ns_udp_bind(ep, addr.addr, (uint16_t)port, 0);
        if (rc != 0) {
                fprintf(stderr, "udp_echo: %s\n", ns_strerror(rc));
                return 1;
        }
        ns_udp_set_recv_cb(ep, echo, &echoed);
        printf("ready\n");
        fflush(stdout);

        int rounds = argc > 4 ? atoi(argv[4]) * 10 : -1;
        for (int i = 0; rounds < 0 || i < rounds; i++) {
                struct pollfd p = { .fd = ns_tap_fd(tun), .events = POLLIN };
                (void)poll(&p, 1, 100);
                ns_tap_receive(tun);
                ns_stack_poll(s);
        }
        printf("datagrams echoed: %lu\n", echoed);
        ns_udp_close(ep);
        ns_nic_remove(s, 1);
        ns_tap_close(tun);
        ns_stack_destroy(s);
        return 0;
}
