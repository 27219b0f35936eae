/*
 * The stack `run` and `replay` drive: Ethernet NICs over frame devices or
 * NICs straight on a raw-IP link (as on TUN), addresses, routes,
 * neighbours, groups and the UDP echo service, built the same way whatever
 * the devices are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct ns_module *const modules[] = {
        &ns_module_ipv4, &ns_module_arp, &ns_module_udp, &ns_module_ping, &ns_module_raw, NULL,
};

static int fail(const char *what, int err)
{
        fprintf(stderr, "netstack: %s: %s\n", what, ns_strerror(err));
        return -1;
}

int cli_stack_create(struct cli_stack *cs, struct ns_clock clock, struct ns_rng rng)
{
        memset(cs, 0, sizeof(*cs));
        struct ns_stack_config cfg;
        ns_stack_config_init(&cfg);
        cfg.clock = clock;
        cfg.rng = rng;
        cfg.modules = modules;
        cs->rng = rng;
        int err = ns_stack_create(&cfg, &cs->s);
        return err ? fail("cannot create the stack", err) : 0;
}

int cli_stack_add_iface(struct cli_stack *cs, const struct cli_opts *o, size_t i,
                        struct ns_frame_dev *dev, struct ns_pcap *capture, bool promiscuous)
{
        const struct cli_iface *f = &o->ifaces[i];
        cs->dev[i] = dev;
        cs->n = i + 1;
        if (capture) {
                cs->sniff[i] = ns_pcap_dev_create(NULL, dev, capture);
                if (!cs->sniff[i])
                        return fail(f->name, NS_ERR_NO_MEMORY);
                dev = ns_pcap_dev_frame_dev(cs->sniff[i]);
        }
        /* A random locally administered unicast MAC (IEEE 802: bit 1 set, bit 0 clear). */
        uint8_t mac[6];
        cs->rng.fill(cs->rng.ctx, mac, sizeof(mac));
        mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
        cs->eth[i] = ns_eth_create(NULL, dev, mac);
        if (!cs->eth[i])
                return fail(f->name, NS_ERR_NO_MEMORY);
        ns_eth_set_promiscuous(cs->eth[i], promiscuous);
        return cli_stack_add_link(cs, o, i, ns_eth_link(cs->eth[i]));
}

int cli_stack_add_link(struct cli_stack *cs, const struct cli_opts *o, size_t i,
                       struct ns_link *link)
{
        const struct cli_iface *f = &o->ifaces[i];
        char what[96];
        cs->n = i + 1;
        struct ns_nic_config nc = { .name = f->name };
        int err = ns_nic_create(cs->s, (uint32_t)i + 1, link, &nc);
        if (err)
                return fail(f->name, err);
        for (size_t a = 0; a < f->n_addrs; a++) {
                err = ns_nic_add_address(cs->s, (uint32_t)i + 1, f->addrs[a]);
                if (err) {
                        char ip[16];
                        snprintf(what, sizeof(what), "%s: address %s/%u", f->name,
                                 ns_ip4_format(f->addrs[a].addr, ip), f->addrs[a].prefix_len);
                        return fail(what, err);
                }
        }
        return 0;
}

/* ---- the UDP echo service ------------------------------------------------ */

/*
 * The endpoint bound to the main address of a NIC, to answer datagrams
 * sent to a group or broadcast from a unicast address (RFC 1122 3.2.1.3:
 * a group address is never a source).
 */
static struct ns_udp_ep *unicast_ep(struct cli_stack *cs, uint32_t nic_id)
{
        struct ns_ip4_prefix main_addr;
        if (ns_nic_main_address(cs->s, nic_id, &main_addr) != 0)
                return NULL;
        for (size_t i = 0; i < cs->n_echo; i++) {
                ns_ip4 local;
                ns_udp_local(cs->echo[i], &local, NULL);
                if (local == main_addr.addr)
                        return cs->echo[i];
        }
        return NULL;
}

static void echo_recv(void *ctx, struct ns_udp_ep *ep, const struct ns_udp_datagram *d)
{
        struct cli_stack *cs = ctx;
        struct ns_udp_ep *out = d->broadcast ? unicast_ep(cs, d->nic_id) : ep;
        /* A send error is counted by the stack (udp.packet_send_errors). */
        if (out)
                (void)ns_udp_send(out, d->src, d->src_port, d->data, d->len);
}

static int open_echo(struct cli_stack *cs, ns_ip4 local, uint16_t port)
{
        struct ns_udp_ep *ep;
        int err = ns_udp_open(cs->s, &ep);
        if (err)
                return fail("udp echo", err);
        ns_udp_set_reuse_addr(ep, true);
        err = ns_udp_bind(ep, local, port, 0);
        if (err) {
                char ip[16];
                char what[64];
                snprintf(what, sizeof(what), "udp echo on %s:%u", ns_ip4_format(local, ip), port);
                ns_udp_close(ep);
                return fail(what, err);
        }
        ns_udp_set_recv_cb(ep, echo_recv, cs);
        cs->echo[cs->n_echo++] = ep;
        return 0;
}

/*
 * One endpoint per unicast address (it answers from that address, as a
 * Linux echo server bound per address would) and one wildcard endpoint
 * that takes what is left: joined groups and broadcasts.
 */
static int start_echo(struct cli_stack *cs, const struct cli_opts *o)
{
        for (size_t i = 0; i < o->n_ifaces; i++)
                for (size_t a = 0; a < o->ifaces[i].n_addrs; a++)
                        if (open_echo(cs, o->ifaces[i].addrs[a].addr, o->udp_echo) != 0)
                                return -1;
        return open_echo(cs, NS_IP4_ANY, o->udp_echo);
}

/* ---- configuration ------------------------------------------------------- */

int cli_stack_configure(struct cli_stack *cs, const struct cli_opts *o)
{
        char what[96], ip[16], gw[16];
        int err;
        if (o->forward && (err = ns_ipv4_set_param(cs->s, NS_IPV4_PARAM_FORWARDING, 1)) != 0)
                return fail("--forward", err);
        for (size_t i = 0; i < o->n_routes; i++) {
                const struct cli_route *r = &o->routes[i];
                struct ns_route_entry e = { .dst = r->dst,
                                            .gateway = r->gateway,
                                            .nic_id = ns_nic_find(cs->s, r->nic) };
                if ((err = ns_route_add(cs->s, &e)) != 0) {
                        snprintf(what, sizeof(what), "--route %s/%u=%s@%s",
                                 ns_ip4_format(r->dst.addr, ip), r->dst.prefix_len,
                                 ns_ip4_format(r->gateway, gw), r->nic);
                        return fail(what, err);
                }
        }
        for (size_t i = 0; i < o->n_neighs; i++) {
                const struct cli_neigh *n = &o->neighs[i];
                err = ns_arp_add_static(cs->s, ns_nic_find(cs->s, n->nic), n->addr, n->mac);
                if (err) {
                        snprintf(what, sizeof(what), "--neigh %s@%s", ns_ip4_format(n->addr, ip),
                                 n->nic);
                        return fail(what, err);
                }
        }
        for (size_t i = 0; i < o->n_joins; i++) {
                const struct cli_join *j = &o->joins[i];
                err = ns_ipv4_join_group(cs->s, ns_nic_find(cs->s, j->nic), j->group);
                if (err) {
                        snprintf(what, sizeof(what), "--join %s@%s", ns_ip4_format(j->group, ip),
                                 j->nic);
                        return fail(what, err);
                }
        }
        if (o->udp_echo && start_echo(cs, o) != 0)
                return -1;
        return 0;
}

int cli_write_stats(struct cli_stack *cs, const char *path)
{
        struct ns_stats st;
        ns_stack_get_stats(cs->s, &st);
        size_t len = ns_stats_to_json(&st, NULL, 0);
        char *buf = malloc(len + 2);
        if (!buf)
                return fail("--stats", NS_ERR_NO_MEMORY);
        ns_stats_to_json(&st, buf, len + 1);
        buf[len] = '\n';
        /* Written beside the target and renamed, so a reader never sees half a file. */
        size_t plen = strlen(path);
        char *tmp = malloc(plen + 8);
        if (!tmp) {
                free(buf);
                return fail("--stats", NS_ERR_NO_MEMORY);
        }
        memcpy(tmp, path, plen);
        memcpy(tmp + plen, ".tmp", 5);
        FILE *f = fopen(tmp, "w");
        bool ok = f && fwrite(buf, 1, len + 1, f) == len + 1;
        if (f && fclose(f) != 0)
                ok = false;
        if (ok && rename(tmp, path) != 0)
                ok = false;
        if (!ok) {
                fprintf(stderr, "netstack: --stats %s: %s\n", path, strerror(errno));
                (void)unlink(tmp);
        }
        free(tmp);
        free(buf);
        return ok ? 0 : -1;
}

void cli_stack_destroy(struct cli_stack *cs)
{
        for (size_t i = 0; i < cs->n_echo; i++)
                ns_udp_close(cs->echo[i]);
        cs->n_echo = 0;
        if (cs->s)
                ns_stack_destroy(cs->s);
        cs->s = NULL;
        for (size_t i = 0; i < cs->n; i++) {
                ns_eth_destroy(cs->eth[i]);
                ns_pcap_dev_destroy(cs->sniff[i]);
                cs->eth[i] = NULL;
                cs->sniff[i] = NULL;
        }
        cs->n = 0;
}
